import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { z } from 'zod';
import { ExperimentError, type ExperimentService } from '../experiments/service.ts';
import { createBodySchema, estimateBodySchema, rescoreBodySchema, resultsQuerySchema, switchQuerySchema } from '../experiments/schema.ts';
import { simulateSwitch } from '../experiments/switch-simulator.ts';
import type { Storage } from '../store/clickhouse.ts';
import { isFinished, type ExperimentStore } from '../store/experiments.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import type { AuthVariables } from './auth.ts';
import type {
  ExperimentEstimateResponse,
  ExperimentListResponse,
  ExperimentResponse,
  ExperimentResultsResponse,
  ExperimentSummary,
  SwitchQuality,
  ModelQualityResponse,
  SwitchSimulatorResponse,
} from './contract.ts';
import { apiError } from './errors.ts';
import { describeIssue } from './params.ts';

type C = Context<{ Variables: AuthVariables }>;

export interface ExperimentRouteDeps {
  storage: Storage;
  priceOverrides: PriceOverrideStore;
  experimentStore: ExperimentStore;
  experiments: ExperimentService;
}

/** Latest completed experiments consulted for a model's quality in the switch simulator. */
const QUALITY_EXPERIMENTS = 5;

/** Experiments (run models over a dataset, score, compare) and the model switch simulator. */
export function experimentRoutes(deps: ExperimentRouteDeps) {
  const api = new Hono<{ Variables: AuthVariables }>();

  // Before /experiments/:id, which would otherwise take "quality" for an id.
  api.get('/experiments/quality', async (c) => {
    const models = (c.req.query('models') ?? '').split(',').map((m) => m.trim()).filter(Boolean);
    if (models.length === 0 || models.length > 50) {
      return apiError(c, 400, 'invalid_query', 'invalid "models": give 1 to 50 model names, comma-separated');
    }
    const projectId = c.get('projectId');
    const found = await Promise.all(models.map(async (model) => [model, (await qualityOf(deps, projectId, model))[0] ?? null] as const));
    const response: ModelQualityResponse = { quality: Object.fromEntries(found) };
    return c.json(response);
  });
  const { experiments } = deps;

  api.post('/experiments/estimate', async (c) => {
    const body = await parseBody(c, estimateBodySchema);
    if (!body.ok) return body.response;
    return handle(c, async () => {
      const estimate: ExperimentEstimateResponse = await experiments.estimate(c.get('projectId'), body.data);
      return c.json(estimate);
    });
  });

  api.post('/experiments', async (c) => {
    const body = await parseBody(c, createBodySchema);
    if (!body.ok) return body.response;
    return handle(c, async () => c.json({ experiment: await experiments.start(c.get('projectId'), body.data) }, 202));
  });

  api.get('/experiments', async (c) => {
    const response: ExperimentListResponse = { experiments: await experiments.list(c.get('projectId')) };
    return c.json(response);
  });

  api.get('/experiments/:id', async (c) => {
    const details = await experiments.details(c.get('projectId'), c.req.param('id'));
    if (!details) return notFound(c);
    const response: ExperimentResponse = details;
    return c.json(response);
  });

  api.get('/experiments/:id/results', async (c) => {
    const query = resultsQuerySchema.safeParse(c.req.query());
    if (!query.success) return apiError(c, 400, 'invalid_query', describeIssue(query.error));
    return handle(c, async () => {
      const results: ExperimentResultsResponse | null = await experiments.results(c.get('projectId'), c.req.param('id'), query.data);
      return results ? c.json(results) : notFound(c);
    });
  });

  api.post('/experiments/:id/rescore', async (c) => {
    const body = await parseBody(c, rescoreBodySchema, {});
    if (!body.ok) return body.response;
    return handle(c, async () => c.json({ experiment: await experiments.rescore(c.get('projectId'), c.req.param('id'), body.data.scorers) }));
  });

  api.post('/experiments/:id/cancel', async (c) => {
    return handle(c, async () => c.json({ experiment: await experiments.cancel(c.get('projectId'), c.req.param('id')) }));
  });

  // Server-Sent Events: one `progress` event per change (the experiment as GET returns it), then `end`.
  api.get('/experiments/:id/events', async (c) => {
    const projectId = c.get('projectId');
    const id = c.req.param('id');
    const first = await experiments.get(projectId, id);
    if (!first) return notFound(c);
    return streamSSE(c, async (stream) => {
      const queue: ExperimentSummary[] = [];
      let wake: (() => void) | null = null;
      const push = (experiment: ExperimentSummary) => {
        queue.push(experiment);
        wake?.();
      };
      const unsubscribe = isFinished(first.status) ? null : experiments.subscribe(id, push);
      stream.onAbort(() => {
        unsubscribe?.();
        wake?.();
      });
      // Subscribed first, then read: a change in between is sent rather than lost.
      let last = (await experiments.get(projectId, id)) ?? first;
      await stream.writeSSE({ event: 'progress', data: JSON.stringify(last) });
      while (unsubscribe && !isFinished(last.status) && !stream.aborted) {
        if (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        const next = queue.splice(0).at(-1);
        if (!next) continue;
        last = next;
        await stream.writeSSE({ event: 'progress', data: JSON.stringify(last) });
      }
      unsubscribe?.();
      if (!stream.aborted) await stream.writeSSE({ event: 'end', data: JSON.stringify({ status: last.status }) });
    });
  });

  api.get('/switch-simulator', async (c) => {
    const query = switchQuerySchema.safeParse(c.req.query());
    if (!query.success) return apiError(c, 400, 'invalid_query', describeIssue(query.error));
    const projectId = c.get('projectId');
    const q = query.data;
    const [cost, fromQuality, toQuality] = await Promise.all([
      deps.priceOverrides
        .forProject(projectId)
        .then((overrides) => simulateSwitch(deps.storage, overrides, { projectId, from: q.from, to: q.to, fromModel: q.fromModel, toModel: q.toModel, toProvider: q.toProvider })),
      qualityOf(deps, projectId, q.fromModel),
      qualityOf(deps, projectId, q.toModel),
    ]);
    const response: SwitchSimulatorResponse = { ...cost, quality: { fromModel: fromQuality, toModel: toQuality } };
    return c.json(response);
  });

  return api;
}

/** What `model` reached in the project's latest completed experiments, one entry per configuration on it. */
async function qualityOf(deps: ExperimentRouteDeps, projectId: string, model: string): Promise<SwitchQuality[]> {
  const found = await deps.experimentStore.completedWithModel(projectId, model, QUALITY_EXPERIMENTS);
  const out: SwitchQuality[] = [];
  for (const experiment of found) {
    const details = await deps.experiments.details(projectId, experiment.id);
    if (!details) continue;
    for (const config of experiment.configs.filter((c) => c.model === model)) {
      const summary = details.summaries.find((s) => s.configId === config.id);
      if (!summary) continue;
      out.push({
        experimentId: experiment.id,
        experimentName: experiment.name,
        configId: config.id,
        finishedAt: experiment.finishedAt,
        passRate: summary.passRate,
        meanScore: summary.meanScore,
        meanScoreCi: summary.meanScoreCi,
        calls: summary.calls,
      });
    }
  }
  return out;
}

async function handle(c: C, work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ExperimentError) return apiError(c, error.status, error.code, error.message);
    throw error;
  }
}

async function parseBody<S extends z.ZodType>(
  c: C,
  schema: S,
  whenEmpty?: unknown,
): Promise<{ ok: true; data: z.output<S> } | { ok: false; response: Response }> {
  const text = await c.req.text();
  let json: unknown = whenEmpty;
  if (text.trim() !== '' || whenEmpty === undefined) {
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, response: apiError(c, 400, 'invalid_body', 'the body must be JSON') };
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, response: apiError(c, 400, 'invalid_body', describeIssue(parsed.error)) };
  return { ok: true, data: parsed.data };
}

function notFound(c: C) {
  return apiError(c, 404, 'not_found', `no such experiment in this project`);
}
