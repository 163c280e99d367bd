import { error, fail, redirect } from '@sveltejs/kit';
import { blankRow, parseRows, rowsFromForm, wantsAnotherRow } from '#lib/assertions.ts';
import { collector, failureMessage } from '#lib/server/collector.ts';
import { datasetTarget } from '#lib/server/dataset-target.ts';
import type { DatasetSummary } from '#lib/api-types.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const api = collector(event);
  const [{ trace }, datasets] = await Promise.all([
    api.trace(event.params.traceId),
    api.datasets().then(
      (r) => r.datasets,
      () => null as DatasetSummary[] | null,
    ),
  ]);
  const llmSpans = trace.spans.filter((s) => s.llm).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1));
  if (llmSpans.length === 0) error(404, `Trace ${trace.traceId} has no LLM call to turn into a test case.`);
  const asked = event.url.searchParams.get('span');
  const span = llmSpans.find((s) => s.spanId === asked) ?? llmSpans[0]!;
  return { traceId: trace.traceId, span, llmSpans: llmSpans.map((s) => ({ spanId: s.spanId, name: s.name })), datasets };
};

export const actions: Actions = {
  default: async (event) => {
    const form = await event.request.formData();
    const spanId = String(form.get('spanId') ?? '');
    const expected = String(form.get('expectedOutput') ?? '');
    const rows = rowsFromForm(form);
    const values = { expectedOutput: expected, rows, datasetId: String(form.get('datasetId') ?? ''), newDatasetName: String(form.get('newDatasetName') ?? '') };
    if (wantsAnotherRow(form)) return { ...values, rows: [...rows, blankRow()] };

    if (!/^[0-9a-f]{16}$/i.test(spanId)) return fail(400, { ...values, error: 'The form lost which LLM call to promote; reload the page.' });
    const parsed = parseRows(rows);
    if ('error' in parsed) return fail(400, { ...values, error: parsed.error });

    const api = collector(event);
    let datasetId: string;
    try {
      const dataset = await datasetTarget(api, form);
      if ('error' in dataset) return fail(400, { ...values, error: dataset.error });
      datasetId = dataset.id;
      await api.addItemsFromSpans(dataset.id, [
        { traceId: event.params.traceId, spanId, expectedOutput: expected.trim() === '' ? null : expected, assertions: parsed.assertions },
      ]);
    } catch (failure) {
      return fail(502, { ...values, error: failureMessage(failure) });
    }
    redirect(303, `/traces/${event.params.traceId}?span=${spanId}&promoted=${encodeURIComponent(datasetId)}`);
  },
};
