import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { itemFromSpan, itemsFromTraces, matchingTraces, unpromotable } from '../datasets/promote.ts';
import { assertionSchema, itemPatchSchema, newItemSchema, type NewItem } from '../datasets/schema.ts';
import { exportItems, ImportError, importItems } from '../datasets/transfer.ts';
import type { Storage } from '../store/clickhouse.ts';
import type { DatasetStore } from '../store/datasets.ts';
import { getTrace } from '../store/traces.ts';
import type { AuthVariables } from './auth.ts';
import type {
  DatasetItemsCreatedResponse,
  DatasetItemsFromMatchingTracesResponse,
  DatasetListResponse,
  DatasetResponse,
  PromotionListResponse,
} from './contract.ts';
import { apiError } from './errors.ts';
import { describeIssue, metadataFilter, rangeAndFilters, toFilter, traceIdParam, traceListQuery } from './params.ts';

const datasetBody = z.object({ name: z.string().trim().min(1).max(200), description: z.string().max(2000).default('') });
const datasetPatch = z.object({ name: z.string().trim().min(1).max(200).optional(), description: z.string().max(2000).optional() });
const itemsBody = z.object({ items: z.array(newItemSchema).min(1).max(1000) });
const fromSpansBody = z.object({
  spans: z
    .array(
      z.object({
        traceId: z.string().regex(/^[0-9a-f]{32}$/),
        spanId: z.string().regex(/^[0-9a-f]{16}$/),
        expectedOutput: z.string().nullable().optional(),
        assertions: z.array(assertionSchema).max(50).optional(),
      }),
    )
    .min(1)
    .max(200),
});
const fromTracesBody = z.object({ traceIds: z.array(z.string().regex(/^[0-9a-f]{32}$/)).min(1).max(200) });
/** Most traces one request promotes by query, and most test cases it may make of them. */
export const MAX_MATCHING_TRACES = 1000;
export const MAX_MATCHING_ITEMS = 10_000;
const fromMatchingTracesBody = z.object({
  /** GET /traces query parameters; paging (`cursor`, `limit`) is not a filter and is left out. */
  filters: z.record(z.string(), z.string()).default({}),
  maxTraces: z.number().int().min(1).max(MAX_MATCHING_TRACES).default(MAX_MATCHING_TRACES),
});
const formatQuery = z.enum(['jsonl', 'csv']).default('jsonl');
const versionQuery = z.coerce.number().int().min(0).optional();

type C = Context<{ Variables: AuthVariables }>;

/** Datasets of test cases: CRUD, versions, promotion from traces, JSONL/CSV import and export. */
export function datasetRoutes(storage: Storage, datasets: DatasetStore) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/datasets', async (c) => {
    const body: DatasetListResponse = { datasets: await datasets.list(c.get('projectId')) };
    return c.json(body);
  });

  api.post('/datasets', async (c) => {
    const parsed = datasetBody.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    return c.json({ dataset: await datasets.create(c.get('projectId'), parsed.data.name, parsed.data.description) }, 201);
  });

  api.get('/datasets/:id', async (c) => {
    const dataset = await datasets.get(c.get('projectId'), c.req.param('id'));
    if (!dataset) return notFound(c);
    const version = versionQuery.safeParse(c.req.query('version'));
    if (!version.success) return apiError(c, 400, 'invalid_query', describeIssue(version.error));
    const at = version.data ?? dataset.version;
    if (at > dataset.version) return apiError(c, 404, 'not_found', `dataset ${dataset.id} has no version ${at} (latest is ${dataset.version})`);
    const body: DatasetResponse = { dataset, version: at, items: await datasets.items(c.get('projectId'), dataset.id, at) };
    return c.json(body);
  });

  api.patch('/datasets/:id', async (c) => {
    const parsed = datasetPatch.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const dataset = await datasets.update(c.get('projectId'), c.req.param('id'), parsed.data);
    return dataset ? c.json({ dataset }) : notFound(c);
  });

  api.delete('/datasets/:id', async (c) => {
    return (await datasets.delete(c.get('projectId'), c.req.param('id'))) ? c.json({ deleted: true }) : notFound(c);
  });

  api.post('/datasets/:id/items', async (c) => {
    const parsed = itemsBody.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    return created(c, await datasets.addItems(c.get('projectId'), c.req.param('id'), parsed.data.items));
  });

  api.post('/datasets/:id/items/from-spans', async (c) => {
    const parsed = fromSpansBody.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const projectId = c.get('projectId');
    const items: NewItem[] = [];
    for (const wanted of parsed.data.spans) {
      const span = (await getTrace(storage, projectId, wanted.traceId)).find((s) => s.spanId === wanted.spanId);
      if (!span) return apiError(c, 404, 'not_found', `no span ${wanted.spanId} in trace ${wanted.traceId}`);
      const reason = unpromotable(span);
      if (reason) return apiError(c, 422, 'not_promotable', reason);
      items.push(itemFromSpan(span, { expectedOutput: wanted.expectedOutput, assertions: wanted.assertions }));
    }
    return created(c, await datasets.addItems(projectId, c.req.param('id'), items));
  });

  api.post('/datasets/:id/items/from-traces', async (c) => {
    const parsed = fromTracesBody.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const projectId = c.get('projectId');
    const items = await itemsFromTraces(storage, projectId, parsed.data.traceIds);
    if (items.length === 0) return apiError(c, 422, 'not_promotable', 'none of these traces has an LLM call with recorded input messages');
    return created(c, await datasets.addItems(projectId, c.req.param('id'), items));
  });

  // Every trace the trace list shows for a query, not only one page of it: chosen and read here, in the list's order.
  api.post('/datasets/:id/items/from-matching-traces', async (c) => {
    const parsed = fromMatchingTracesBody.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const { cursor: _cursor, limit: _limit, ...filters } = parsed.data.filters;
    const range = rangeAndFilters.safeParse(filters);
    if (!range.success) return apiError(c, 400, 'invalid_body', `in "filters": ${describeIssue(range.error)}`);
    const list = traceListQuery.safeParse(filters);
    if (!list.success) return apiError(c, 400, 'invalid_body', `in "filters": ${describeIssue(list.error)}`);
    const metadata = metadataFilter(filters);
    if (typeof metadata === 'string') return apiError(c, 400, 'invalid_body', `in "filters": ${metadata}`);

    const projectId = c.get('projectId');
    const datasetId = c.req.param('id');
    if (!(await datasets.get(projectId, datasetId))) return notFound(c);
    const { cursor: _, limit: __, ...options } = list.data;
    const { traces, capped } = await matchingTraces(storage, { ...toFilter(projectId, range.data), ...options, metadata }, parsed.data.maxTraces);
    if (traces.length === 0) return apiError(c, 422, 'not_promotable', 'no trace matches these filters in this time range');
    const llmCalls = traces.reduce((n, t) => n + t.llmCalls, 0);
    if (llmCalls > MAX_MATCHING_ITEMS) {
      return apiError(
        c,
        422,
        'too_many_items',
        `the ${traces.length} matching traces hold ${llmCalls} LLM calls; at most ${MAX_MATCHING_ITEMS} test cases are added at once: narrow the filters or lower "maxTraces"`,
      );
    }
    const items = await itemsFromTraces(storage, projectId, traces.map((t) => t.traceId));
    if (items.length === 0) return apiError(c, 422, 'not_promotable', 'none of the matching traces has an LLM call with recorded input messages');
    const result = await datasets.addItems(projectId, datasetId, items);
    if (!result) return notFound(c);
    const body: DatasetItemsFromMatchingTracesResponse = { traces: traces.length, capped, llmCalls, added: result.items.length, version: result.version };
    return c.json(body, 201);
  });

  api.patch('/datasets/:id/items/:itemId', async (c) => {
    const parsed = itemPatchSchema.safeParse(await jsonOf(c));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const updated = await datasets.updateItem(c.get('projectId'), c.req.param('id'), c.req.param('itemId'), parsed.data);
    return updated ? c.json(updated) : notFound(c);
  });

  api.delete('/datasets/:id/items/:itemId', async (c) => {
    const version = await datasets.deleteItem(c.get('projectId'), c.req.param('id'), c.req.param('itemId'));
    return version === null ? notFound(c) : c.json({ deleted: true, version });
  });

  api.get('/datasets/:id/export', async (c) => {
    const format = formatQuery.safeParse(c.req.query('format'));
    if (!format.success) return apiError(c, 400, 'invalid_query', describeIssue(format.error));
    const version = versionQuery.safeParse(c.req.query('version'));
    if (!version.success) return apiError(c, 400, 'invalid_query', describeIssue(version.error));
    const dataset = await datasets.get(c.get('projectId'), c.req.param('id'));
    if (!dataset) return notFound(c);
    const at = Math.min(version.data ?? dataset.version, dataset.version);
    const text = exportItems(await datasets.items(c.get('projectId'), dataset.id, at), format.data);
    const filename = `${dataset.name.replace(/[^\w.-]+/g, '-')}-v${at}.${format.data}`;
    return c.body(text, 200, {
      'content-type': format.data === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
    });
  });

  api.post('/datasets/:id/import', async (c) => {
    const format = formatQuery.safeParse(c.req.query('format'));
    if (!format.success) return apiError(c, 400, 'invalid_query', describeIssue(format.error));
    let items: NewItem[];
    try {
      items = importItems(await c.req.text(), format.data);
    } catch (error) {
      if (error instanceof ImportError) return apiError(c, 400, 'invalid_file', error.message);
      throw error;
    }
    return created(c, await datasets.addItems(c.get('projectId'), c.req.param('id'), items));
  });

  api.get('/traces/:traceId/promotions', async (c) => {
    const traceId = traceIdParam.safeParse(c.req.param('traceId'));
    if (!traceId.success) return apiError(c, 400, 'invalid_query', describeIssue(traceId.error));
    const body: PromotionListResponse = { promotions: await datasets.promotionsOf(c.get('projectId'), traceId.data.toLowerCase()) };
    return c.json(body);
  });

  return api;
}

function notFound(c: C) {
  return apiError(c, 404, 'not_found', `no such dataset or item in this project`);
}

function created(c: C, result: DatasetItemsCreatedResponse | null) {
  return result ? c.json(result, 201) : notFound(c);
}

async function jsonOf(c: C): Promise<unknown> {
  return c.req.json().catch(() => undefined);
}
