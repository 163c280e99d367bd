import type { AttributeValue } from '../../otlp/decode.ts';

// Attribute values arrive as whatever the exporter chose: numbers as strings, JSON as strings or as
// kvlists. These read them leniently, so one odd exporter does not lose a whole span's GenAI columns.

export function str(value: AttributeValue | undefined): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

/** A token count: a non-negative integer, 0 when absent or unreadable. */
export function num(value: AttributeValue | undefined): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** The first of several names that holds a count (0 when none does). */
export function firstNum(...values: (AttributeValue | undefined)[]): number {
  for (const value of values) {
    const n = num(value);
    if (n) return n;
  }
  return 0;
}

export function strings(value: AttributeValue | undefined): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  if (typeof value === 'string' && value) {
    // Some exporters flatten a string array to its JSON text.
    if (value.startsWith('[')) {
      const parsed = parseJson(value);
      if (Array.isArray(parsed)) return parsed.filter((v): v is string => typeof v === 'string' && v !== '');
    }
    return [value];
  }
  return [];
}

/** A JSON string parsed, a structured value as is; undefined when neither. */
export function parseJson(value: unknown): unknown {
  if (typeof value !== 'string') return value ?? undefined;
  const first = value.trimStart()[0];
  if (first !== '{' && first !== '[' && first !== '"') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** The conventions carry messages as JSON strings; some exporters send structured values. */
export function jsonText(value: AttributeValue | undefined): string {
  if (value === undefined || value === null || value === '') return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
