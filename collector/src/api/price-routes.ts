import { Hono } from 'hono';
import { z } from 'zod';
import type { Storage } from '../store/clickhouse.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import { repriceSpans } from '../store/reprice.ts';
import type { AuthVariables } from './auth.ts';
import { apiError } from './errors.ts';
import { describeIssue } from './params.ts';

const rate = z.number().finite().min(0).nullable().default(null);
const overrideBody = z
  .object({
    model: z.string().trim().min(1).max(300),
    provider: z.string().trim().max(100).default(''),
    inputPerMTok: rate,
    outputPerMTok: rate,
    cacheReadPerMTok: rate,
    cacheWritePerMTok: rate,
    perHour: rate,
    effectiveFrom: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((o) => o.perHour !== null || o.inputPerMTok !== null || o.outputPerMTok !== null, {
    message: 'give per-token prices (inputPerMTok, outputPerMTok, USD per million tokens) or perHour',
    path: ['inputPerMTok'],
  })
  .refine((o) => o.perHour === null || (o.inputPerMTok === null && o.outputPerMTok === null), {
    message: 'a price is per token or per hour, not both',
    path: ['perHour'],
  });

const repriceBody = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .default({});

/** Per-project price overrides (negotiated, fine-tuned, self-hosted) and re-pricing of stored spans. */
export function priceRoutes(storage: Storage, overrides: PriceOverrideStore) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/overrides', async (c) => c.json({ overrides: await overrides.list(c.get('projectId')) }));

  api.post('/overrides', async (c) => {
    const parsed = overrideBody.safeParse(await c.req.json().catch(() => undefined));
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const { effectiveFrom, ...prices } = parsed.data;
    const created = await overrides.create(c.get('projectId'), {
      ...prices,
      effectiveFrom: effectiveFrom ? new Date(effectiveFrom).toISOString() : new Date().toISOString(),
    });
    return c.json({ override: created }, 201);
  });

  api.delete('/overrides/:id', async (c) => {
    const deleted = await overrides.delete(c.get('projectId'), c.req.param('id'));
    if (!deleted) return apiError(c, 404, 'not_found', `no price override "${c.req.param('id')}" in this project`);
    return c.json({ deleted: true });
  });

  api.post('/reprice', async (c) => {
    const text = await c.req.text();
    let input: unknown = {};
    if (text) {
      try {
        input = JSON.parse(text);
      } catch {
        return apiError(c, 400, 'invalid_body', 'the body must be JSON: { "from"?, "to"? }');
      }
    }
    const parsed = repriceBody.safeParse(input);
    if (!parsed.success) return apiError(c, 400, 'invalid_body', describeIssue(parsed.error));
    const from = new Date(parsed.data.from ?? '2000-01-01T00:00:00Z');
    const to = new Date(parsed.data.to ?? Date.now() + 86_400_000);
    const projectId = c.get('projectId');
    const repricedSpans = await repriceSpans(storage, projectId, await overrides.list(projectId), from, to);
    return c.json({ repricedSpans });
  });

  return api;
}
