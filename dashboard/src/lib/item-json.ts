import type { ItemInput } from '#lib/api-types.ts';

// A dataset item's input and metadata are edited as JSON text. These read the text back, with
// errors a person can act on; the collector checks the message shapes in full when saving.

export function inputJson(input: ItemInput): string {
  return JSON.stringify(input, null, 2);
}

export function metadataJson(metadata: Record<string, string>): string {
  return JSON.stringify(metadata, null, 2);
}

export function parseInput(text: string): { input: ItemInput } | { error: string } {
  const parsed = parseJson(text, 'Input');
  if ('error' in parsed) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return { error: 'Input must be a JSON object with a "messages" array.' };
  if (!Array.isArray(value.messages) || value.messages.length === 0) {
    return { error: 'Input needs a "messages" array with at least one message, e.g. [{ "role": "user", "parts": [{ "type": "text", "content": "…" }] }].' };
  }
  const bad = value.messages.findIndex((m) => !isObject(m) || typeof m.role !== 'string' || !Array.isArray(m.parts));
  if (bad >= 0) return { error: `Input message ${bad + 1} needs a "role" (text) and a "parts" array.` };
  return { input: value as unknown as ItemInput };
}

export function parseMetadata(text: string): { metadata: Record<string, string> } | { error: string } {
  if (text.trim() === '') return { metadata: {} };
  const parsed = parseJson(text, 'Metadata');
  if ('error' in parsed) return parsed;
  const value = parsed.value;
  if (!isObject(value)) return { error: 'Metadata must be a JSON object of text values, e.g. { "topic": "refunds" }.' };
  const bad = Object.entries(value).find(([, v]) => typeof v !== 'string');
  if (bad) return { error: `Metadata "${bad[0]}" must be text (in quotes), not ${JSON.stringify(bad[1])}.` };
  return { metadata: value as Record<string, string> };
}

function parseJson(text: string, what: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `${what} is not valid JSON: ${(error as Error).message}` };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
