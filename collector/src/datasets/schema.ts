import { z } from 'zod';
import type { Assertion, ItemInput } from '../api/contract.ts';

/** A message part as the GenAI conventions define it; unknown part types are kept as they are. */
const part = z.looseObject({ type: z.string().min(1) });
const message = z.looseObject({ role: z.string().min(1), parts: z.array(part) });

export const itemInputSchema: z.ZodType<ItemInput> = z.object({
  systemInstructions: z.array(part).nullish(),
  messages: z.array(message).min(1, 'a test case needs at least one message'),
  toolDefinitions: z.array(z.unknown()).nullish(),
  params: z.record(z.string(), z.unknown()).nullish(),
}) as z.ZodType<ItemInput>;

export const assertionSchema: z.ZodType<Assertion> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('equals'), value: z.string(), ignoreCase: z.boolean().optional() }),
  z.object({ type: z.literal('contains'), value: z.string().min(1), ignoreCase: z.boolean().optional() }),
  z.object({ type: z.literal('not_contains'), value: z.string().min(1), ignoreCase: z.boolean().optional() }),
  z
    .object({ type: z.literal('regex'), pattern: z.string().min(1), flags: z.string().regex(/^[dgimsuvy]*$/).optional() })
    .refine((a) => isValidRegex(a.pattern, a.flags), { message: 'is not a valid regular expression', path: ['pattern'] }),
  z.object({ type: z.literal('is_json') }),
  z.object({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('max_length'), value: z.number().int().min(0) }),
  z.object({ type: z.literal('rubric'), rubric: z.string().min(1) }),
]) as z.ZodType<Assertion>;

export const newItemSchema = z.object({
  input: itemInputSchema,
  expectedOutput: z.string().nullish().transform((v) => v ?? null),
  assertions: z.array(assertionSchema).max(50).default([]),
  metadata: z.record(z.string(), z.string()).default({}),
  source: z
    .object({ traceId: z.string().regex(/^[0-9a-f]{32}$/), spanId: z.string().regex(/^[0-9a-f]{16}$/) })
    .nullish()
    .transform((v) => v ?? null),
});
export type NewItem = z.output<typeof newItemSchema>;

export const itemPatchSchema = z.object({
  input: itemInputSchema.optional(),
  expectedOutput: z.string().nullable().optional(),
  assertions: z.array(assertionSchema).max(50).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type ItemPatch = z.output<typeof itemPatchSchema>;

function isValidRegex(pattern: string, flags: string | undefined): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}
