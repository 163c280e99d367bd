import { z } from 'zod';
import type { SpanFilter } from '../store/filters.ts';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const text = z.string().trim().min(1).max(500).optional();
const amount = z.coerce.number().finite().min(0).optional();

/** Time range and filters shared by the metrics and trace routes; defaults to the last 24 hours. */
export const rangeAndFilters = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    service: text,
    environment: text,
    provider: text,
    model: text,
    user: text,
    session: text,
    tag: text,
  })
  .transform((q) => {
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 24 * 3600 * 1000);
    return { ...q, from, to };
  })
  .refine((q) => q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });

export function toFilter(projectId: string, q: z.infer<typeof rangeAndFilters>): SpanFilter {
  return {
    projectId,
    from: q.from,
    to: q.to,
    service: q.service,
    environment: q.environment,
    provider: q.provider,
    model: q.model,
    userId: q.user,
    sessionId: q.session,
    tag: q.tag,
  };
}

const dimension = z.enum(['model', 'provider', 'service', 'environment', 'user', 'session', 'tag']);

export const timeseriesQuery = z.object({
  bucket: z.coerce.number().int().min(10).max(30 * 86400).optional(),
  groupBy: dimension.default('model'),
});

export const breakdownQuery = z.object({
  groupBy: dimension.default('model'),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const dimensionValuesQuery = z.object({
  dimension: z.enum(['model', 'provider', 'service', 'environment', 'user', 'tag']),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const traceListQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().max(300).optional(),
    status: z.enum(['error', 'ok']).optional(),
    q: z.string().trim().min(1).max(500).optional(),
    sort: z.enum(['time', 'duration', 'cost', 'tokens']).default('time'),
    order: z.enum(['asc', 'desc']).default('desc'),
    minCost: amount,
    maxCost: amount,
    minDurationMs: amount,
    maxDurationMs: amount,
  })
  .refine((q) => q.minCost === undefined || q.maxCost === undefined || q.minCost <= q.maxCost, {
    message: 'must not be above maxCost',
    path: ['minCost'],
  })
  .refine((q) => q.minDurationMs === undefined || q.maxDurationMs === undefined || q.minDurationMs <= q.maxDurationMs, {
    message: 'must not be above maxDurationMs',
    path: ['minDurationMs'],
  });

/** `meta.<key>=<value>` query parameters: traces whose spans carry that withContext metadata. */
export function metadataFilter(query: Record<string, string>): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!name.startsWith('meta.')) continue;
    const key = name.slice(5);
    if (!/^[\w.-]{1,100}$/.test(key)) return `invalid "${name}": metadata keys are letters, digits, _ . and -`;
    if (value.length > 500) return `invalid "${name}": at most 500 characters`;
    out[key] = value;
  }
  if (Object.keys(out).length > 10) return 'at most 10 meta.<key> filters';
  return out;
}

export const sessionListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const traceIdParam = z.string().regex(/^[0-9a-f]{32}$/i, 'trace id must be 32 hex characters');

export const projectBody = z.object({
  name: z.string().trim().min(1).max(200),
  retentionDays: z.number().int().min(0).max(3650).optional(),
});

export const projectPatch = z.object({
  name: z.string().trim().min(1).max(200).optional(),
  retentionDays: z.number().int().min(0).max(3650).optional(),
});

export const keyBody = z.object({
  name: z.string().trim().min(1).max(200),
  scope: z.enum(['ingest', 'full', 'admin']).default('full'),
});

/** Zod's first issue as a sentence naming the parameter. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const name = issue.path.join('.') || 'input';
  return `invalid "${name}": ${issue.message}`;
}
