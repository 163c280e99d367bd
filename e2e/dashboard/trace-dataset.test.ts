// A trace as a user reads it, then the loop from production to test case: promote an LLM call through
// the form, find it in the dataset, edit it, export it and import it back unchanged.
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetListResponse, DatasetResponse, TraceListResponse, TraceResponse, SpanDetail } from '../../collector/src/api/contract.ts';
import { agentRun, screenshot, startHarness, type Harness } from './support.ts';

let h: Harness;
let page: Page;
let traceId: string;
let answerSpan: SpanDetail;

beforeAll(async () => {
  h = await startHarness('weather-app');
  await agentRun(h, { sessionId: 'sess-42', userId: 'user-7' });
  await h.flush();
  traceId = (await h.parallax.api<TraceListResponse>('/api/v1/traces')).traces[0]!.traceId;
  const { trace } = await h.parallax.api<TraceResponse>(`/api/v1/traces/${traceId}`);
  // The second LLM call carries the whole conversation: system, user, the tool call and its result.
  answerSpan = trace.spans.filter((s) => s.llm).sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? 1 : -1))[0]!;
  page = await h.newPage();
});

afterAll(async () => {
  await h?.close();
});

const datasetByName = async (name: string) => {
  const { datasets } = await h.parallax.api<DatasetListResponse>('/api/v1/datasets');
  const found = datasets.find((d) => d.name === name);
  if (!found) throw new Error(`no dataset "${name}" in ${JSON.stringify(datasets.map((d) => d.name))}`);
  return found;
};

describe('trace page', () => {
  it('renders the conversation: system, user, assistant tool call with arguments, tool result, final answer', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}?span=${answerSpan.spanId}`);
    const detail = page.locator('[data-testid="span-detail"]');
    await detail.waitFor();
    expect(await detail.locator('[data-testid="system-instructions"]').innerText()).toContain('You are a weather assistant. Use the tool.');
    const inputs = detail.locator('[data-testid="input-message"]');
    expect(await inputs.evaluateAll((els) => els.map((e) => e.getAttribute('data-role')))).toEqual(['user', 'assistant', 'tool']);
    expect(await inputs.nth(0).innerText()).toContain('What is the weather in Paris?');
    expect(await inputs.nth(1).locator('[data-testid="tool-call-name"]').innerText()).toBe('get_weather');
    expect(JSON.parse(await inputs.nth(1).locator('[data-testid="tool-call-arguments"]').innerText())).toEqual({ city: 'Paris' });
    expect(JSON.parse(await inputs.nth(2).locator('[data-testid="tool-result-content"]').innerText())).toEqual({ tempC: 18, sky: 'sunny' });
    expect(await detail.locator('[data-testid="output-message"]').innerText()).toContain('It is 18°C and sunny in Paris.');
    await screenshot(page, 'trace-light');
  });

  it('links to the session and the user', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}`);
    await page.locator('[data-testid="trace-user"]').waitFor();
    expect(await page.locator('[data-testid="trace-user"]').innerText()).toBe('user-7');
    await page.locator('[data-testid="trace-session"]').click();
    await page.waitForURL(/\/sessions\/sess-42$/);
    expect(await page.locator('[data-testid="session-trace"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-trace-id')))).toEqual([traceId]);
  });
});

describe('promote to test case', () => {
  it('saves an LLM call with an edited expected output and a "contains" assertion, and the trace shows it', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}?span=${answerSpan.spanId}`);
    await page.locator('[data-testid="promote-span"]').click();
    await page.waitForURL(/\/promote\?span=/);
    const expected = page.locator('[data-testid="expected-output"]');
    // Prefilled with what the model answered, and the input is the stored conversation.
    expect(await expected.inputValue()).toBe('It is 18°C and sunny in Paris.');
    expect(await page.locator('[data-testid="promote-input"] [data-testid="tool-call-name"]').innerText()).toBe('get_weather');

    // No dataset exists yet: "New dataset…" is the choice, with a name field.
    await page.locator('[data-testid="promote-dataset-new-name"]').fill('weather answers');
    await expected.fill('Sunny, 18°C in Paris.');
    const rows = page.locator('[data-testid="assertion-row"]');
    await rows.nth(0).locator('[data-testid="assertion-type"]').selectOption('contains');
    await rows.nth(0).locator('[data-testid="assertion-value"]').fill('sunny');
    await page.locator('[data-testid="assertion-add"]').click();
    await rows.nth(1).locator('[data-testid="assertion-type"]').selectOption('regex');
    await rows.nth(1).locator('[data-testid="assertion-value"]').fill('(unclosed');
    await page.locator('[data-testid="promote-save"]').click();

    // A bad regex is refused beside the form, and nothing typed is lost.
    expect(await page.locator('[data-testid="promote-error"]').innerText()).toMatch(/Assertion 2: not a valid regular expression/);
    expect(await expected.inputValue()).toBe('Sunny, 18°C in Paris.');
    expect(await rows.nth(0).locator('[data-testid="assertion-value"]').inputValue()).toBe('sunny');
    await rows.nth(1).locator('[data-testid="assertion-value"]').fill('\\d+°C');
    await page.locator('[data-testid="promote-dataset-new-name"]').fill('weather answers');
    await page.locator('[data-testid="promote-save"]').click();

    await page.waitForURL(new RegExp(`/traces/${traceId}\\?span=${answerSpan.spanId}`));
    const promotion = page.locator('[data-testid="promotions"] [data-testid="promotion-link"]');
    expect(await promotion.innerText()).toBe('weather answers');
    expect(await page.locator('[data-testid="span-promotions"]').innerText()).toContain('weather answers');

    const dataset = await datasetByName('weather answers');
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${dataset.id}`);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      expectedOutput: 'Sunny, 18°C in Paris.',
      assertions: [{ type: 'contains', value: 'sunny' }, { type: 'regex', pattern: '\\d+°C' }],
      source: { traceId, spanId: answerSpan.spanId },
    });
  });

  it('works without JavaScript: "+ Add assertion" comes back with another row, and Enter saves', async () => {
    const context = await h.browser.newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 900 } });
    try {
      const plain = await context.newPage();
      plain.setDefaultTimeout(8_000);
      const dataset = await datasetByName('weather answers');
      await plain.goto(`${h.parallax.dashboardUrl}/traces/${traceId}/promote?span=${answerSpan.spanId}`);
      await plain.locator('[data-testid="promote-dataset-select"]').selectOption(dataset.id);
      await plain.locator('[data-testid="expected-output"]').fill('Sunny in Paris.');
      const rows = plain.locator('[data-testid="assertion-row"]');
      expect(await rows.count()).toBe(1);
      await rows.nth(0).locator('[data-testid="assertion-type"]').selectOption('contains');
      await rows.nth(0).locator('[data-testid="assertion-value"]').fill('Paris');
      await plain.locator('[data-testid="assertion-add"]').click();
      await rows.nth(1).waitFor();
      // The page came back from the server with what was typed, and a second row to fill in.
      expect(await rows.nth(0).locator('[data-testid="assertion-value"]').inputValue()).toBe('Paris');
      expect(await plain.locator('[data-testid="expected-output"]').inputValue()).toBe('Sunny in Paris.');
      expect(await plain.locator('[data-testid="promote-dataset-select"]').inputValue()).toBe(dataset.id);
      expect(await plain.locator('[data-testid="promote-error"]').count()).toBe(0);
      await rows.nth(1).locator('[data-testid="assertion-type"]').selectOption('max_length');
      await rows.nth(1).locator('[data-testid="assertion-value"]').fill('200');
      await rows.nth(1).locator('[data-testid="assertion-value"]').press('Enter');
      await plain.waitForURL(new RegExp(`/traces/${traceId}\\?span=${answerSpan.spanId}&promoted=`));
    } finally {
      await context.close();
    }
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${(await datasetByName('weather answers')).id}`);
    expect(items).toHaveLength(2);
    expect(items[1]).toMatchObject({ expectedOutput: 'Sunny in Paris.', assertions: [{ type: 'contains', value: 'Paris' }, { type: 'max_length', value: 200 }] });
    // Back to one item, as the tests below expect.
    expect((await h.request('DELETE', `/api/v1/datasets/${(await datasetByName('weather answers')).id}/items/${items[1]!.id}`)).status).toBe(200);
  });

  it('shows the item in the dataset with its source link back to the trace', async () => {
    await page.goto(`${h.parallax.dashboardUrl}/traces/${traceId}`);
    await page.locator('[data-testid="promotion-link"]').click();
    await page.waitForURL(/\/datasets\/[^/]+#item-/);
    const item = page.locator('[data-testid="dataset-item"]');
    expect(await item.count()).toBe(1);
    expect(await item.locator('[data-testid="item-expected"]').innerText()).toBe('Sunny, 18°C in Paris.');
    expect(await item.locator('[data-testid="item-assertion"]').allInnerTexts()).toEqual(['contains "sunny"', 'matches /\\d+°C/']);
    expect(await item.locator('[data-testid="item-input"] [data-testid="system-instructions"]').innerText()).toContain('You are a weather assistant');
    await screenshot(page, 'dataset-light');
    await item.locator('[data-testid="item-source"]').click();
    await page.waitForURL(new RegExp(`/traces/${traceId}\\?span=${answerSpan.spanId}`));
    await page.locator(`[data-testid="span-detail"][data-span-id="${answerSpan.spanId}"]`).waitFor();
  });

  it('edits an item as a new version and still shows the old version read-only', async () => {
    const dataset = await datasetByName('weather answers');
    await page.goto(`${h.parallax.dashboardUrl}/datasets/${dataset.id}`);
    const before = Number(await page.locator('[data-testid="dataset-version"]').getAttribute('data-value'));
    await page.locator('[data-testid="item-edit"]').click();
    await page.locator('[data-testid="item-expected-input"]').fill('Sunny and mild in Paris.');
    await page.locator('[data-testid="item-save"]').click();
    await page.locator('[data-testid="item-expected"]').getByText('Sunny and mild in Paris.').waitFor();
    expect(Number(await page.locator('[data-testid="dataset-version"]').getAttribute('data-value'))).toBe(before + 1);
    // The assertions were kept through the edit.
    expect(await page.locator('[data-testid="item-assertion"]').count()).toBe(2);

    await page.locator('[data-testid="version-select"]').selectOption(String(before));
    await page.locator('[data-testid="old-version"]').waitFor();
    expect(await page.locator('[data-testid="item-expected"]').innerText()).toBe('Sunny, 18°C in Paris.');
    expect(await page.locator('[data-testid="item-edit"]').count()).toBe(0);
  });

  it('edits the input messages and metadata as JSON; a mistake is named and nothing typed is lost', async () => {
    const dataset = await datasetByName('weather answers');
    await page.goto(`${h.parallax.dashboardUrl}/datasets/${dataset.id}`);
    const before = Number(await page.locator('[data-testid="dataset-version"]').getAttribute('data-value'));
    await page.locator('[data-testid="item-edit"]').click();
    const input = page.locator('[data-testid="item-input-json"]');
    const metadata = page.locator('[data-testid="item-metadata-json"]');
    const expected = page.locator('[data-testid="item-expected-input"]');
    const save = page.locator('[data-testid="item-save"]');
    const error = page.locator('[data-testid="item-edit-error"]');
    const current = JSON.parse(await input.inputValue()) as { messages: { role: string }[]; systemInstructions: unknown };
    expect(current.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
    expect(JSON.parse(await metadata.inputValue())).toEqual({ model: 'gpt-4o-mini', provider: 'openai_compatible' });
    const expectedBefore = await expected.inputValue();

    // A trailing comma: the JSON error is shown, and every field keeps what was typed.
    const edited = { ...current, messages: [{ role: 'user', parts: [{ type: 'text', content: 'Weather in Lyon, "today"?' }] }] };
    const broken = JSON.stringify(edited, null, 2).replace(/\n}$/, ',\n}');
    await input.fill(broken);
    await metadata.fill('{ "model": "gpt-4o-mini", "topic": "weather" }');
    await save.click();
    expect(await error.innerText()).toMatch(/^Input is not valid JSON: /);
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(await input.inputValue()).toBe(broken);
    expect(await metadata.inputValue()).toBe('{ "model": "gpt-4o-mini", "topic": "weather" }');
    expect(await expected.inputValue()).toBe(expectedBefore);

    // Metadata values are text; a number is refused by name.
    await input.fill(JSON.stringify(edited, null, 2));
    await metadata.fill('{ "model": "gpt-4o-mini", "priority": 2 }');
    await save.click();
    await error.getByText('Metadata "priority" must be text').waitFor();
    expect(await input.inputValue()).toBe(JSON.stringify(edited, null, 2));

    // A part without a type passes the page's checks; the collector refuses it, and the page says where.
    await input.fill(JSON.stringify({ messages: [{ role: 'user', parts: [{ content: 'no type' }] }] }));
    await metadata.fill('{ "model": "gpt-4o-mini", "topic": "weather" }');
    await save.click();
    await error.getByText('"input.messages.0.parts.0.type"').waitFor();
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    expect(Number((await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${dataset.id}`)).dataset.version)).toBe(before);

    await input.fill(JSON.stringify(edited, null, 2));
    await save.click();
    await page.locator('[data-testid="item-input"] [data-testid="input-message"]').getByText('Weather in Lyon, "today"?').waitFor();
    expect(Number(await page.locator('[data-testid="dataset-version"]').getAttribute('data-value'))).toBe(before + 1);
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${dataset.id}`);
    expect(items[0]).toMatchObject({
      input: { messages: edited.messages, systemInstructions: current.systemInstructions },
      metadata: { model: 'gpt-4o-mini', topic: 'weather' },
      expectedOutput: expectedBefore,
    });
    expect(items[0]!.assertions).toHaveLength(2);

    // The version before still holds the old conversation.
    await page.locator('[data-testid="version-select"]').selectOption(String(before));
    await page.locator('[data-testid="old-version"]').waitFor();
    expect(await page.locator('[data-testid="item-input"]').innerText()).toContain('What is the weather in Paris?');
  });

  it('exports the dataset as JSONL and imports it into a new dataset unchanged', async () => {
    const source = await datasetByName('weather answers');
    await page.goto(`${h.parallax.dashboardUrl}/datasets/${source.id}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-jsonl"]').click()]);
    expect(download.suggestedFilename()).toMatch(/\.jsonl$/);
    const file = await download.path();
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(1);

    await page.goto(`${h.parallax.dashboardUrl}/datasets`);
    await page.locator('[data-testid="dataset-name"]').fill('weather copy');
    await page.locator('[data-testid="dataset-create"]').click();
    await page.waitForURL(/\/datasets\/[^/?#]+$/);
    await page.locator('[data-testid="dataset-empty"]').waitFor();
    await page.locator('[data-testid="import-file"]').setInputFiles({ name: 'weather.jsonl', mimeType: 'application/x-ndjson', buffer: await readFile(file) });
    await page.locator('[data-testid="import-submit"]').click();
    expect(await page.locator('[data-testid="import-done"]').innerText()).toContain('Imported 1 items');
    await page.locator('[data-testid="dataset-item"]').waitFor();

    const copy = await datasetByName('weather copy');
    const strip = (r: DatasetResponse) => r.items.map(({ input, expectedOutput, assertions, metadata, source }) => ({ input, expectedOutput, assertions, metadata, source }));
    const original = strip(await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${source.id}`));
    const imported = strip(await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${copy.id}`));
    expect(imported).toEqual(original);
    expect(original[0]!.expectedOutput).toBe('Sunny and mild in Paris.');
  });

  it('exports the dataset as CSV and imports it into a new dataset unchanged', async () => {
    const source = await datasetByName('weather answers');
    await page.goto(`${h.parallax.dashboardUrl}/datasets/${source.id}`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid="export-csv"]').click()]);
    expect(download.suggestedFilename()).toMatch(/^weather-answers-v\d+\.csv$/);
    const file = await readFile(await download.path(), 'utf8');
    expect(file.split('\n')[0]).toBe('input,expected_output,assertions,metadata,source_trace_id,source_span_id');

    await page.goto(`${h.parallax.dashboardUrl}/datasets`);
    await page.locator('[data-testid="dataset-name"]').fill('weather csv copy');
    await page.locator('[data-testid="dataset-create"]').click();
    await page.waitForURL(/\/datasets\/[^/?#]+$/);
    await page.locator('[data-testid="dataset-empty"]').waitFor();
    await page.locator('[data-testid="import-file"]').setInputFiles({ name: download.suggestedFilename(), mimeType: 'text/csv', buffer: Buffer.from(file) });
    await page.locator('[data-testid="import-submit"]').click();
    expect(await page.locator('[data-testid="import-done"]').innerText()).toContain('Imported 1 items');
    await page.locator('[data-testid="dataset-item"]').waitFor();

    const copy = await datasetByName('weather csv copy');
    const strip = (r: DatasetResponse) => r.items.map(({ input, expectedOutput, assertions, metadata, source }) => ({ input, expectedOutput, assertions, metadata, source }));
    const original = strip(await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${source.id}`));
    expect(strip(await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${copy.id}`))).toEqual(original);
    // The copy carries the edited conversation with its quotes, and the assertions, through CSV quoting.
    expect(JSON.stringify(original[0]!.input)).toContain('Weather in Lyon, \\"today\\"?');
    expect(original[0]!.assertions).toHaveLength(2);
  });

  it('adds every LLM call of the selected traces to a dataset from the trace list', async () => {
    const copy = await datasetByName('weather copy');
    await page.goto(`${h.parallax.dashboardUrl}/traces`);
    await page.locator(`[data-testid="trace-row"][data-trace-id="${traceId}"] [data-testid="trace-select"]`).check();
    await page.locator('[data-testid="bulk-dataset-select"]').selectOption(copy.id);
    await page.locator('[data-testid="bulk-add-selected"]').click();
    expect(await page.locator('[data-testid="bulk-added"]').innerText()).toMatch(/Added 2 test cases from 1 trace to weather copy/);
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${copy.id}`);
    expect(items).toHaveLength(3);
  });

  it('adds every trace the filters match, beyond the page in view, after saying how many', async () => {
    // 55 one-call traces on a model of their own: more than the list's page of 50.
    for (let i = 0; i < 55; i++) h.openaiServer.enqueue({ text: `bulk answer ${i}`, usage: { input_tokens: 5, output_tokens: 2 } });
    for (let i = 0; i < 55; i++) await h.openai.chat.completions.create({ model: 'gpt-4.1-nano', messages: [{ role: 'user', content: `bulk question ${i}` }] });
    await h.flush();
    await page.goto(`${h.parallax.dashboardUrl}/traces?model=gpt-4.1-nano`);
    expect(await page.locator('[data-testid="trace-row"]').count()).toBe(50);
    // Even from the second page, "all matching" means all of them, not the 5 in view.
    await page.locator('[data-testid="next-page"]').click();
    await page.locator('[data-testid="trace-count"]').getByText('Page 2').waitFor();
    await page.locator('[data-testid="bulk-dataset-select"]').selectOption('new');
    await page.locator('[data-testid="bulk-dataset-new-name"]').fill('all nano');
    await page.locator('[data-testid="bulk-count-matching"]').click();
    const count = page.locator('[data-testid="bulk-matching-count"]');
    expect(await count.innerText()).toBe('55 traces match these filters, with 55 LLM calls.');
    // Counting adds nothing and makes no dataset; cancelling leaves it so.
    await page.locator('[data-testid="bulk-matching-cancel"]').click();
    await page.locator('[data-testid="bulk-matching-preview"]').waitFor({ state: 'detached' });
    const names = async () => (await h.parallax.api<DatasetListResponse>('/api/v1/datasets')).datasets.map((d) => d.name);
    expect(await names()).not.toContain('all nano');

    await page.locator('[data-testid="bulk-dataset-select"]').selectOption('new');
    await page.locator('[data-testid="bulk-dataset-new-name"]').fill('all nano');
    await page.locator('[data-testid="bulk-count-matching"]').click();
    await count.waitFor();
    expect(await page.locator('[data-testid="bulk-add-matching"]').innerText()).toBe('Add 55 traces');
    await page.locator('[data-testid="bulk-add-matching"]').click();
    expect(await page.locator('[data-testid="bulk-added"]').innerText()).toMatch(/^Added 55 test cases from 55 traces to all nano\.$/);
    // The list is still the filtered one the person was looking at.
    expect(new URL(page.url()).searchParams.get('model')).toBe('gpt-4.1-nano');
    const { items } = await h.parallax.api<DatasetResponse>(`/api/v1/datasets/${(await datasetByName('all nano')).id}`);
    const questions = items.map((i) => (i.input.messages[0]!.parts[0] as { content: string }).content).sort();
    expect(questions).toEqual(Array.from({ length: 55 }, (_, i) => `bulk question ${i}`).sort());
    expect(new Set(items.map((i) => i.source!.traceId)).size).toBe(55);
  });

  it('adds configuration and scorer rows to a new experiment without JavaScript, keeping what was typed', async () => {
    const context = await h.browser.newContext({ javaScriptEnabled: false, viewport: { width: 1440, height: 900 } });
    try {
      const plain = await context.newPage();
      plain.setDefaultTimeout(8_000);
      const dataset = await datasetByName('weather answers');
      await plain.goto(`${h.parallax.dashboardUrl}/experiments/new?dataset=${dataset.id}`);
      const configs = plain.locator('[data-testid="config-model"]');
      expect(await configs.count()).toBe(1);
      await configs.nth(0).fill('gpt-4.1-mini');
      await plain.locator('[data-testid="config-add"]').click();
      await configs.nth(1).waitFor();
      expect(await configs.nth(0).inputValue()).toBe('gpt-4.1-mini');
      expect(await configs.nth(1).inputValue()).toBe('');
      const scorers = plain.locator('[data-testid="scorer-type"]');
      const before = await scorers.count();
      await plain.locator('[data-testid="scorer-add"]').click();
      await scorers.nth(before).waitFor();
      expect(await configs.count()).toBe(2);
      expect(await plain.locator('[data-testid="experiment-dataset"]').inputValue()).toBe(dataset.id);
    } finally {
      await context.close();
    }
  });
});
