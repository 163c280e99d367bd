// What a client may ask of the experiment runner. Keys are never part of a request: the collector's own
// environment has them. A base URL is accepted only for openai_compatible, whose calls never carry the
// OpenAI key (see providers.ts), so a request cannot send the collector's keys to a server of its choosing.
import { z } from 'zod';
import type { ExperimentModelConfig, ExperimentScorer } from '../api/contract.ts';

const PROVIDERS = ['openai', 'anthropic', 'gemini', 'openai_compatible'] as const;

const baseUrl = z
  .url({ protocol: /^https?$/, message: 'must be an http(s) URL' })
  .max(2000);

// Strict: a key in a configuration is refused rather than silently dropped, so nobody believes it was used.
const modelConfigObject = z.strictObject({
  id: z.string().trim().min(1).max(100).regex(/^[\w.@:/+-]+$/, 'use letters, digits and . @ : / + - _'),
  provider: z.enum(PROVIDERS),
  model: z.string().trim().min(1).max(200),
  params: z.record(z.string(), z.unknown()).optional(),
  systemPrompt: z.string().max(100_000).optional(),
  baseUrl: baseUrl.optional(),
}, {
  error: (issue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}: a configuration has id, provider, model, params, systemPrompt and baseUrl; provider keys come from the collector's environment`
      : undefined,
});

export const modelConfigSchema: z.ZodType<ExperimentModelConfig> = modelConfigObject
  .refine((c) => c.baseUrl === undefined || c.provider === 'openai_compatible', {
    message: 'baseUrl is only allowed for provider "openai_compatible" (the other providers use the collector\'s configured base URLs)',
    path: ['baseUrl'],
  })
  .refine((c) => c.provider !== 'openai_compatible' || c.baseUrl !== undefined, {
    message: 'provider "openai_compatible" needs a baseUrl',
    path: ['baseUrl'],
  }) as z.ZodType<ExperimentModelConfig>;

const regexScorer = z
  .object({ type: z.literal('regex'), pattern: z.string().min(1).max(1000), flags: z.string().regex(/^[dgimsuvy]*$/).optional() })
  .refine((s) => isValidRegex(s.pattern, s.flags), { message: 'is not a valid regular expression', path: ['pattern'] });

export const scorerSchema: z.ZodType<ExperimentScorer> = z.union([
  z.object({ type: z.literal('exact_match'), ignoreCase: z.boolean().optional() }),
  z.object({ type: z.literal('contains'), value: z.string().min(1), ignoreCase: z.boolean().optional() }),
  z.object({ type: z.literal('not_contains'), value: z.string().min(1), ignoreCase: z.boolean().optional() }),
  regexScorer,
  z.object({ type: z.literal('is_json') }),
  z.object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }),
  z
    .object({ type: z.literal('length'), min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
    .refine((s) => s.min !== undefined || s.max !== undefined, { message: 'give min, max or both' }),
  z.object({ type: z.literal('latency'), maxMs: z.number().positive() }),
  z.object({ type: z.literal('cost'), maxUsd: z.number().positive() }),
  z
    .object({
      type: z.literal('semantic_similarity'),
      provider: z.enum(PROVIDERS),
      model: z.string().trim().min(1).max(200),
      threshold: z.number().min(0).max(1),
      baseUrl: baseUrl.optional(),
    })
    .refine((s) => s.baseUrl === undefined || s.provider === 'openai_compatible', {
      message: 'baseUrl is only allowed for provider "openai_compatible"',
      path: ['baseUrl'],
    }),
  z.object({ type: z.literal('llm_judge'), rubric: z.string().min(1).max(20_000).optional(), judge: modelConfigSchema, threshold: z.number().min(0).max(1).optional() }),
]) as z.ZodType<ExperimentScorer>;

const runShape = {
  datasetId: z.string().min(1).max(200),
  /** Default: the dataset's current version. */
  datasetVersion: z.number().int().min(0).optional(),
  configs: z
    .array(modelConfigSchema)
    .min(1)
    .max(20)
    .refine((configs) => new Set(configs.map((c) => c.id)).size === configs.length, { message: 'configuration ids must be unique' }),
  scorers: z.array(scorerSchema).max(20).default([]),
  repetitions: z.number().int().min(1).max(20).default(1),
};

export const estimateBodySchema = z.object(runShape);

export const createBodySchema = z.object({
  ...runShape,
  name: z.string().trim().min(1).max(200),
  /** Concurrent calls per provider. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Per call, retries included. */
  timeoutMs: z.number().int().min(1000).max(600_000).default(120_000),
  /** Retries of a failed call (429 and 5xx, honouring Retry-After). */
  retries: z.number().int().min(0).max(10).default(3),
  baselineExperimentId: z.string().min(1).max(200).optional(),
});
export type CreateExperimentBody = z.output<typeof createBodySchema>;

export const rescoreBodySchema = z.object({ scorers: z.array(scorerSchema).max(20).optional() });

export const resultsQuerySchema = z.object({
  disagreements: z.enum(['1', 'true', '0', 'false']).optional().transform((v) => v === '1' || v === 'true'),
  scoreVersion: z.coerce.number().int().min(1).optional(),
});

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const switchQuerySchema = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    fromModel: z.string().trim().min(1).max(200),
    toModel: z.string().trim().min(1).max(200),
    toProvider: z.string().trim().min(1).max(100).optional(),
  })
  .transform((q) => {
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - 30 * 86400_000);
    return { ...q, from, to };
  })
  .refine((q) => q.from < q.to, { message: '"from" must be before "to"', path: ['from'] });

function isValidRegex(pattern: string, flags: string | undefined): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}
