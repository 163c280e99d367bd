import { startAnthropicServer, startGeminiServer, startOpenAIServer, type AnthropicServer, type GeminiServer, type OpenAIServer } from '@parallax/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExperimentCollector, type ExperimentTestCollector } from '../experiments/test-support.ts';
import { generateKey } from '../store/projects.ts';
import type {
  ApiError,
  DatasetResponse,
  ExperimentEstimateResponse,
  ExperimentListResponse,
  ExperimentResponse,
  ExperimentResultsResponse,
  ExperimentSummary,
  ModelQualityResponse,
  SwitchSimulatorResponse,
  TraceListResponse,
  TraceResponse,
} from './contract.ts';

let collector: ExperimentTestCollector;
let openai: OpenAIServer;
let anthropic: AnthropicServer;
let gemini: GeminiServer;
let otherKey: string;
let datasetId: string;

const text = (content: string) => [{ type: 'text', content }];
const user = (content: string) => ({ role: 'user', parts: text(content) });

const THREE_PROVIDERS = [
  { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', params: { max_tokens: 100 } },
  { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', systemPrompt: 'Be brief and friendly.' },
  { id: 'gemini', provider: 'gemini', model: 'gemini-2.5-flash' },
];

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startGeminiServer()]);
  collector = await startExperimentCollector({
    openai: { apiKey: 'sk-test-openai', baseUrl: openai.url },
    anthropic: { apiKey: 'sk-test-anthropic', baseUrl: anthropic.url },
    gemini: { apiKey: 'test-gemini', baseUrl: gemini.url },
  });
  const other = await collector.projects.createProject('Other team');
  otherKey = generateKey();
  await collector.projects.addKey(other.id, otherKey, { name: 'other', scope: 'full' });

  const dataset = await collector.send<{ dataset: { id: string } }>('POST', '/api/v1/datasets', { name: 'capitals' });
  datasetId = dataset.body.dataset.id;
  const added = await collector.send('POST', `/api/v1/datasets/${datasetId}/items`, {
    items: [
      // The OpenAI stand-in echoes the question, the others answer a fixed greeting: they disagree on "Paris".
      { input: { systemInstructions: text('You are terse.'), messages: [user('What is the capital of France?')] }, expectedOutput: 'Paris', assertions: [{ type: 'contains', value: 'France' }] },
      { input: { messages: [user('Say hello')] }, expectedOutput: null, assertions: [] },
    ],
  });
  expect(added.status).toBe(201);
});

afterAll(async () => {
  await collector?.close();
  await Promise.all([openai?.close(), anthropic?.close(), gemini?.close()]);
});

async function waitFor(id: string, done: (e: ExperimentSummary) => boolean, timeoutMs = 20_000): Promise<ExperimentSummary> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await collector.api<ExperimentResponse>(`/api/v1/experiments/${id}`);
    if (done(body.experiment)) return body.experiment;
    if (Date.now() > until) throw new Error(`experiment ${id} still ${body.experiment.status}: ${JSON.stringify(body.experiment.progress)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function standInRequests(): number {
  return openai.requests.length + anthropic.requests.length + gemini.requests.length;
}

describe('POST /api/v1/experiments/estimate', () => {
  it('estimates tokens (characters / 4) and cost per configuration before anything runs; unknown prices stay null', async () => {
    const before = standInRequests();
    const { status, body } = await collector.send<ExperimentEstimateResponse>('POST', '/api/v1/experiments/estimate', {
      datasetId,
      repetitions: 2,
      configs: [...THREE_PROVIDERS.slice(0, 2), { id: 'local', provider: 'openai_compatible', model: 'llama-local', baseUrl: 'http://127.0.0.1:9/v1' }],
    });
    expect(status).toBe(200);
    expect(body.items).toBe(2);
    expect(body.method).toContain('characters / 4');
    const [gpt, claude, local] = body.configs;
    // Item 1: "You are terse." 14 chars → 4, question 30 chars → 8, "Paris" → 2 out. Item 2: "Say hello" → 3 in, max_tokens 100 out.
    expect(gpt).toMatchObject({ configId: 'gpt', calls: 4, inputTokens: 2 * (12 + 3), outputTokens: 2 * (2 + 100) });
    // gpt-4o-mini at $0.15 / $0.60 per million: 2 × ((12 × 0.15 + 2 × 0.6) + (3 × 0.15 + 100 × 0.6)) micro-dollars.
    expect(gpt!.costUsd).toBeCloseTo(2 * (3 + 60.45) / 1e6, 12);
    // claude's system prompt "Be brief and friendly." (22 chars → 6) replaces the item's; no max_tokens → 256 out.
    expect(claude).toMatchObject({ configId: 'claude', inputTokens: 2 * (14 + 9), outputTokens: 2 * (2 + 256) });
    // claude-haiku-4-5 at $1 / $5 per million.
    expect(claude!.costUsd).toBeCloseTo(2 * ((14 + 10) + (9 + 1280)) / 1e6, 12);
    expect(local!.costUsd).toBeNull();
    expect(body.totalCostUsd).toBeNull();
    expect(standInRequests()).toBe(before);
  });
});

describe('validation', () => {
  it('refuses a provider key or a base URL for a hosted provider in the request', async () => {
    const withKey = await collector.send<ApiError>('POST', '/api/v1/experiments', {
      name: 'x',
      datasetId,
      configs: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-from-browser' }],
    });
    expect(withKey.status).toBe(400);
    expect(withKey.body.error.message).toContain('"apiKey"');
    const withBaseUrl = await collector.send<ApiError>('POST', '/api/v1/experiments', {
      name: 'x',
      datasetId,
      configs: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://evil.example/v1' }],
    });
    expect(withBaseUrl.status).toBe(400);
    expect(withBaseUrl.body.error.message).toContain('only allowed for provider "openai_compatible"');
    expect((await collector.api<ExperimentListResponse>('/api/v1/experiments')).body.experiments).toEqual([]);
  });
});

describe('an experiment across three providers', () => {
  let experiment: ExperimentSummary;

  it('starts in the background (202) and ends completed with every result and score stored', async () => {
    const before = { openai: openai.requests.length, anthropic: anthropic.requests.length, gemini: gemini.requests.length };
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'capitals, three providers',
      datasetId,
      configs: THREE_PROVIDERS,
      scorers: [{ type: 'contains', value: 'Paris' }],
    });
    expect(started.status).toBe(202);
    expect(started.body.experiment).toMatchObject({ status: 'queued', datasetVersion: 1, progress: { total: 6, done: 0 } });
    experiment = await waitFor(started.body.experiment.id, (e) => e.status !== 'queued' && e.status !== 'running');
    expect(experiment.status).toBe('completed');
    expect(experiment.progress).toMatchObject({ total: 6, done: 6, errors: 0 });
    expect(experiment.progress.costUsd).toBeGreaterThan(0);
    expect(openai.requests.length - before.openai).toBe(2);
    expect(anthropic.requests.length - before.anthropic).toBe(2);
    expect(gemini.requests.length - before.gemini).toBe(2);
    // The configuration's system prompt replaced the item's on the way to Claude; keys came from the collector.
    const claudeRequest = anthropic.requests.at(-1)!;
    expect(JSON.stringify(claudeRequest.body)).toContain('Be brief and friendly.');
    expect(String(claudeRequest.headers['x-api-key'] ?? claudeRequest.headers.authorization)).toContain('sk-test-anthropic');
    expect(openai.requests.at(-1)!.headers.authorization).toBe('Bearer sk-test-openai');

    const results = await collector.api<ExperimentResultsResponse>(`/api/v1/experiments/${experiment.id}/results`);
    expect(results.body.configIds).toEqual(['gpt', 'claude', 'gemini']);
    expect(results.body.rows).toHaveLength(2);
    const france = results.body.rows[0]!;
    expect(france.expectedOutput).toBe('Paris');
    expect(france.cells.map((c) => c.configId)).toEqual(['gpt', 'claude', 'gemini']);
    const gpt = france.cells[0]!;
    expect(gpt.output).toContain('What is the capital of France?');
    expect(gpt.inputTokens).toBeGreaterThan(0);
    expect(gpt.traceId).toMatch(/^[0-9a-f]{32}$/);
    // The experiment's scorer and the item's own assertion.
    expect(gpt.scores).toHaveLength(2);
    expect(france.cells[1]!.output).toBe('Hello from the Anthropic stand-in.');
    expect(france.cells[2]!.output).toBe('Hello from the Gemini stand-in.');
    // Nobody answers "Paris" and only the echo mentions France: the configurations disagree on this item.
    expect(gpt.pass).toBe(false);
    expect(france.cells[1]!.pass).toBe(false);
  });

  it('summarises each configuration', async () => {
    const { body } = await collector.api<ExperimentResponse>(`/api/v1/experiments/${experiment.id}`);
    expect(body.summaries.map((s) => s.configId).sort()).toEqual(['claude', 'gemini', 'gpt']);
    for (const summary of body.summaries) {
      expect(summary.calls).toBe(2);
      expect(summary.errors).toBe(0);
      expect(summary.passRate).toBe(0);
    }
    expect(body.comparisons).toBeNull();
  });

  it("traces every model call in this collector, under the experiment's project, tagged with the experiment", async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const { body } = await collector.api<TraceListResponse>(`/api/v1/traces?from=${from}&to=${to}&tag=experiment:${experiment.id}&limit=50`);
    const results = await collector.api<ExperimentResultsResponse>(`/api/v1/experiments/${experiment.id}/results`);
    const resultTraces = results.body.rows.flatMap((r) => r.cells.map((c) => c.traceId));
    expect(body.traces.map((t) => t.traceId).sort()).toEqual(expect.arrayContaining([...resultTraces].sort() as string[]));
    const models = new Set(body.traces.flatMap((t) => t.models));
    expect(models).toEqual(new Set(['gpt-4o-mini', 'claude-haiku-4-5', 'gemini-2.5-flash']));
    const detail = await collector.api<TraceResponse>(`/api/v1/traces/${resultTraces[0]}`);
    const llm = detail.body.trace.spans.find((s) => s.llm)!;
    expect(llm.attributes['parallax.experiment.id']).toBe(experiment.id);
    expect(llm.llm!.cost).not.toBeNull();
    // Another project sees none of them.
    const other = await collector.api<TraceListResponse>(`/api/v1/traces?from=${from}&to=${to}&tag=experiment:${experiment.id}`, otherKey);
    expect(other.body.traces).toEqual([]);
  });

  it('rescores with new scorers without calling any model again, keeping the earlier score set', async () => {
    const before = standInRequests();
    const { status, body } = await collector.send<{ experiment: ExperimentSummary }>('POST', `/api/v1/experiments/${experiment.id}/rescore`, {
      scorers: [{ type: 'contains', value: 'France' }],
    });
    expect(status).toBe(200);
    expect(body.experiment.scoreVersion).toBe(2);
    expect(standInRequests()).toBe(before);
    const now = await collector.api<ExperimentResultsResponse>(`/api/v1/experiments/${experiment.id}/results`);
    const [france] = now.body.rows;
    expect(now.body.scoreVersion).toBe(2);
    // The echo mentions France: gpt passes now, the fixed greetings still fail.
    expect(france!.cells.map((c) => c.pass)).toEqual([true, false, false]);
    const earlier = await collector.api<ExperimentResultsResponse>(`/api/v1/experiments/${experiment.id}/results?scoreVersion=1`);
    expect(earlier.body.rows[0]!.cells[0]!.pass).toBe(false);
  });

  it('lists only the items where configurations disagree with ?disagreements=1', async () => {
    const { body } = await collector.api<ExperimentResultsResponse>(`/api/v1/experiments/${experiment.id}/results?disagreements=1`);
    expect(body.rows.map((r) => r.expectedOutput)).toEqual(['Paris']);
  });

  it('compares with a baseline experiment', async () => {
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'capitals again',
      datasetId,
      configs: THREE_PROVIDERS.slice(0, 1),
      scorers: [{ type: 'contains', value: 'France' }],
      baselineExperimentId: experiment.id,
    });
    expect(started.status).toBe(202);
    await waitFor(started.body.experiment.id, (e) => e.status === 'completed');
    const { body } = await collector.api<ExperimentResponse>(`/api/v1/experiments/${started.body.experiment.id}`);
    expect(body.comparisons?.map((c) => c.configId)).toEqual(['gpt']);
    expect(typeof body.comparisons![0]!.pValue).toBe('number');
  });

  it('feeds the switch simulator with the quality each model reached', async () => {
    const from = new Date(Date.now() - 3600_000).toISOString();
    const { body } = await collector.api<SwitchSimulatorResponse>(`/api/v1/switch-simulator?from=${from}&fromModel=gpt-4o-mini&toModel=claude-haiku-4-5&toProvider=anthropic`);
    expect(body.quality.toModel.map((q) => q.experimentId)).toEqual([experiment.id]);
    expect(body.quality.toModel[0]).toMatchObject({ configId: 'claude', passRate: 0, calls: 2 });
    expect(body.quality.fromModel.map((q) => q.configId)).toEqual(['gpt', 'gpt']);
    // Experiment calls are not production traffic.
    expect(body.calls).toBe(0);
  });

  it("gives each model's quality on its latest experiment, for the models page", async () => {
    const { body } = await collector.api<ModelQualityResponse>('/api/v1/experiments/quality?models=claude-haiku-4-5,gpt-4o-mini,never-tested');
    expect(body.quality['claude-haiku-4-5']).toMatchObject({ experimentId: experiment.id, configId: 'claude', passRate: 0 });
    expect(body.quality['gpt-4o-mini']?.configId).toBe('gpt');
    expect(body.quality['never-tested']).toBeNull();
    expect((await collector.api('/api/v1/experiments/quality')).status).toBe(400);
  });
});

describe('a running experiment', () => {
  it('shows progress while it runs, over GET and Server-Sent Events, then completes', async () => {
    for (let i = 0; i < 2; i++) openai.enqueue({ delayMs: 400 });
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'slow',
      datasetId,
      configs: THREE_PROVIDERS.slice(0, 1),
      concurrency: 1,
    });
    const id = started.body.experiment.id;
    const events = await fetch(`${collector.url}/api/v1/experiments/${id}/events`, { headers: { authorization: `Bearer ${collector.apiKey}` } });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const halfway = await waitFor(id, (e) => e.progress.done === 1);
    expect(halfway.status).toBe('running');
    const stream = await events.text();
    const progress = [...stream.matchAll(/event: progress\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!) as ExperimentSummary);
    expect(progress.map((p) => p.progress.done)).toEqual(expect.arrayContaining([1, 2]));
    expect(progress.at(-1)!.status).toBe('completed');
    expect(stream).toContain('event: end');
  });

  it('keeps to the concurrency per provider, while providers run side by side', async () => {
    openai.enqueue({ delayMs: 300 }, { delayMs: 300 });
    anthropic.enqueue({ text: 'one', delayMs: 300 }, { text: 'two', delayMs: 300 });
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'one at a time per provider',
      datasetId,
      configs: THREE_PROVIDERS.slice(0, 2),
      concurrency: 1,
    });
    const id = started.body.experiment.id;
    await waitFor(id, (e) => e.status === 'completed');
    const from = new Date(Date.now() - 3600_000).toISOString();
    const list = await collector.api<TraceListResponse>(`/api/v1/traces?from=${from}&tag=experiment:${id}`);
    const calls: Array<{ provider: string; start: number; end: number }> = [];
    for (const summary of list.body.traces) {
      const detail = await collector.api<TraceResponse>(`/api/v1/traces/${summary.traceId}`);
      for (const span of detail.body.trace.spans.filter((s) => s.llm)) {
        calls.push({ provider: span.llm!.provider, start: Number(BigInt(span.startTimeUnixNano) / 1000n), end: Number(BigInt(span.endTimeUnixNano) / 1000n) });
      }
    }
    expect(calls).toHaveLength(4);
    // Span start times come whole milliseconds from the OpenTelemetry SDK, end times finer: calls that
    // run one after the other can look up to 1 ms overlapped. A real overlap is a whole call (300 ms).
    const overlap = (a: (typeof calls)[number], b: (typeof calls)[number]) => a.start < b.end - 1000 && b.start < a.end - 1000;
    const anthropicCalls = calls.filter((c) => c.provider === 'anthropic');
    const openaiCalls = calls.filter((c) => c.provider !== 'anthropic');
    expect(anthropicCalls).toHaveLength(2);
    expect(overlap(anthropicCalls[0]!, anthropicCalls[1]!)).toBe(false);
    expect(overlap(openaiCalls[0]!, openaiCalls[1]!)).toBe(false);
    expect(openaiCalls.some((o) => anthropicCalls.some((a) => overlap(o, a)))).toBe(true);
  });

  it('is cancelled on request: in-flight calls are aborted and no further calls are made', async () => {
    const items = await collector.api<DatasetResponse>(`/api/v1/datasets/${datasetId}`);
    expect(items.body.items).toHaveLength(2);
    // The first call hangs; were the run not stopped, the next nine would answer at once.
    openai.enqueue({ delayMs: 1500 });
    const before = openai.requests.length;
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'to cancel',
      datasetId,
      configs: THREE_PROVIDERS.slice(0, 1),
      repetitions: 5,
      concurrency: 1,
    });
    const id = started.body.experiment.id;
    await waitFor(id, (e) => e.status === 'running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelled = await collector.send<{ experiment: ExperimentSummary }>('POST', `/api/v1/experiments/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.experiment.status).toBe('cancelled');
    expect(cancelled.body.experiment.statusReason).toContain('cancelled');
    const sentAtCancel = openai.requests.length;
    expect(sentAtCancel - before).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(openai.requests.length).toBe(sentAtCancel);
    const after = await collector.api<ExperimentResponse>(`/api/v1/experiments/${id}`);
    expect(after.body.experiment.status).toBe('cancelled');
    expect(after.body.experiment.progress.done).toBeLessThan(10);
    const again = await collector.send<ApiError>('POST', `/api/v1/experiments/${id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('retries a 429 after the Retry-After the provider sent', async () => {
    openai.enqueue({ status: 429, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, headers: { 'retry-after': '1' } });
    const before = openai.requests.length;
    const startedAt = Date.now();
    const started = await collector.send<{ experiment: ExperimentSummary }>('POST', '/api/v1/experiments', {
      name: 'rate limited',
      datasetId,
      datasetVersion: 1,
      configs: THREE_PROVIDERS.slice(0, 1),
      concurrency: 1,
      retries: 2,
    });
    const done = await waitFor(started.body.experiment.id, (e) => e.status === 'completed');
    expect(done.progress).toMatchObject({ done: 2, errors: 0 });
    const sent = openai.requests.slice(before);
    // The 429, its retry, and the other item.
    expect(sent).toHaveLength(3);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1000);
  });
});

describe('project isolation', () => {
  it("another project's key can neither see this project's experiments nor run on its dataset", async () => {
    const mine = await collector.api<ExperimentListResponse>('/api/v1/experiments');
    expect(mine.body.experiments.length).toBeGreaterThan(0);
    const theirs = await collector.api<ExperimentListResponse>('/api/v1/experiments', otherKey);
    expect(theirs.body.experiments).toEqual([]);
    const id = mine.body.experiments[0]!.id;
    for (const path of [`/api/v1/experiments/${id}`, `/api/v1/experiments/${id}/results`]) {
      expect((await collector.api<ApiError>(path, otherKey)).status).toBe(404);
    }
    expect((await collector.send<ApiError>('POST', `/api/v1/experiments/${id}/cancel`, undefined, otherKey)).status).toBe(404);
    expect((await collector.send<ApiError>('POST', `/api/v1/experiments/${id}/rescore`, {}, otherKey)).status).toBe(404);
    const before = standInRequests();
    const start = await collector.send<ApiError>('POST', '/api/v1/experiments', { name: 'steal', datasetId, configs: THREE_PROVIDERS }, otherKey);
    expect(start.status).toBe(404);
    const estimate = await collector.send<ApiError>('POST', '/api/v1/experiments/estimate', { datasetId, configs: THREE_PROVIDERS }, otherKey);
    expect(estimate.status).toBe(404);
    expect(standInRequests()).toBe(before);
  });
});
