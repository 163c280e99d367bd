import { z } from 'zod';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const text = z.string().trim().min(1).max(500).optional();

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

export const timeseriesQuery = z.object({
  bucket: z.coerce.number().int().min(10).max(30 * 86400).optional(),
});

export const traceListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(['error', 'ok']).optional(),
  q: z.string().trim().min(1).max(500).optional(),
});

export const traceIdParam = z.string().regex(/^[0-9a-f]{32}$/i, 'trace id must be 32 hex characters');

/** Zod's first issue as a sentence naming the parameter. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const name = issue.path.join('.') || 'query';
  return `invalid "${name}": ${issue.message}`;
}
