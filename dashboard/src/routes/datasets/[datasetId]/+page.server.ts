import { error, fail, redirect } from '@sveltejs/kit';
import { blankRow, parseRows, rowsFromForm, wantsAnotherRow } from '#lib/assertions.ts';
import { parseInput, parseMetadata } from '#lib/item-json.ts';
import { collector, CollectorError, failureMessage } from '#lib/server/collector.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const versionText = event.url.searchParams.get('version');
  const version = versionText ? Number(versionText) : null;
  if (version !== null && (!Number.isInteger(version) || version < 0)) error(400, `The version "${versionText}" is not a whole number.`);
  const response = await collector(event).dataset(event.params.datasetId, version);
  return {
    ...response,
    latest: response.version >= response.dataset.version,
    editing: event.url.searchParams.get('edit'),
  };
};

const itemIdOf = (form: FormData) => String(form.get('itemId') ?? '');

export const actions: Actions = {
  updateItem: async (event) => {
    const form = await event.request.formData();
    const itemId = itemIdOf(form);
    const expectedOutput = String(form.get('expectedOutput') ?? '');
    const inputText = String(form.get('input') ?? '');
    const metadataText = String(form.get('metadata') ?? '');
    const rows = rowsFromForm(form);
    if (wantsAnotherRow(form)) {
      return { updateItem: { itemId, expectedOutput, inputText, metadataText, rows: [...rows, blankRow()], error: null, field: null } };
    }
    // Everything typed goes back with an error, so nothing is lost; `field` says where the error is.
    const failed = (status: number, error: string, field: 'input' | 'metadata' | 'assertions' | null) =>
      fail(status, { updateItem: { itemId, expectedOutput, inputText, metadataText, rows, error, field } });
    const input = parseInput(inputText);
    if ('error' in input) return failed(400, input.error, 'input');
    const metadata = parseMetadata(metadataText);
    if ('error' in metadata) return failed(400, metadata.error, 'metadata');
    const assertions = parseRows(rows);
    if ('error' in assertions) return failed(400, assertions.error, 'assertions');
    try {
      await collector(event).updateItem(event.params.datasetId, itemId, {
        input: input.input,
        expectedOutput: expectedOutput.trim() === '' ? null : expectedOutput,
        assertions: assertions.assertions,
        metadata: metadata.metadata,
      });
    } catch (failure) {
      const message = failureMessage(failure);
      const status = failure instanceof CollectorError && failure.status < 500 ? 400 : 502;
      return failed(status, message, /^invalid "input/.test(message) ? 'input' : /^invalid "metadata/.test(message) ? 'metadata' : null);
    }
    redirect(303, `/datasets/${event.params.datasetId}#item-${itemId}`);
  },

  deleteItem: async (event) => {
    const itemId = itemIdOf(await event.request.formData());
    try {
      await collector(event).deleteItem(event.params.datasetId, itemId);
    } catch (failure) {
      return fail(502, { deleteItem: { itemId, error: failureMessage(failure) } });
    }
    return { deleteItem: { itemId } };
  },

  import: async (event) => {
    const form = await event.request.formData();
    const file = form.get('file');
    if (!(file instanceof File) || file.size === 0) return fail(400, { import: { error: 'Choose a .jsonl or .csv file to import.' } });
    const chosen = String(form.get('format') ?? 'auto');
    const format = chosen === 'csv' || chosen === 'jsonl' ? chosen : /\.csv$/i.test(file.name) ? 'csv' : 'jsonl';
    try {
      const created = await collector(event).importItems(event.params.datasetId, format, await file.text());
      return { import: { added: created.items.length, file: file.name } };
    } catch (failure) {
      return fail(400, { import: { error: `${file.name}: ${failureMessage(failure)}` } });
    }
  },

  rename: async (event) => {
    const form = await event.request.formData();
    const name = String(form.get('name') ?? '').trim();
    const description = String(form.get('description') ?? '');
    if (!name) return fail(400, { rename: { error: 'A dataset needs a name.' } });
    try {
      await collector(event).updateDataset(event.params.datasetId, { name, description });
    } catch (failure) {
      return fail(502, { rename: { error: failureMessage(failure) } });
    }
    return { rename: { saved: true } };
  },

  delete: async (event) => {
    try {
      await collector(event).deleteDataset(event.params.datasetId);
    } catch (failure) {
      return fail(502, { delete: { error: failureMessage(failure) } });
    }
    redirect(303, '/datasets');
  },
};
