import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { DatasetItem } from '../api/contract.ts';
import { newItemSchema, type NewItem } from './schema.ts';

export type TransferFormat = 'jsonl' | 'csv';

/** A file of items could not be read; says which line and what was wrong. Nothing is imported. */
export class ImportError extends Error {}

const CSV_COLUMNS = ['input', 'expected_output', 'assertions', 'metadata', 'source_trace_id', 'source_span_id'] as const;

/** One JSON object per line, in the API's item shape without ids and timestamps. */
export function exportItems(items: DatasetItem[], format: TransferFormat): string {
  if (format === 'jsonl') {
    return items.map((i) => JSON.stringify({ input: i.input, expectedOutput: i.expectedOutput, assertions: i.assertions, metadata: i.metadata, source: i.source })).join('\n') + (items.length ? '\n' : '');
  }
  return stringify(
    items.map((i) => [
      JSON.stringify(i.input),
      i.expectedOutput ?? '',
      JSON.stringify(i.assertions),
      JSON.stringify(i.metadata),
      i.source?.traceId ?? '',
      i.source?.spanId ?? '',
    ]),
    { header: true, columns: [...CSV_COLUMNS] },
  );
}

/**
 * Reads items from JSONL or CSV. CSV takes the export's columns, or — for sheets written by hand —
 * a `prompt` (or `question`) column with an optional `system` column instead of `input`, and
 * `expected` for `expected_output`. The whole file is checked before anything is stored.
 */
export function importItems(text: string, format: TransferFormat): NewItem[] {
  const raw = format === 'jsonl' ? readJsonl(text) : readCsv(text);
  if (raw.length === 0) throw new ImportError('the file has no items');
  if (raw.length > 10_000) throw new ImportError(`the file has ${raw.length} items; import at most 10000 at a time`);
  return raw.map(({ where, value }) => {
    const parsed = newItemSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ImportError(`${where}: "${issue.path.join('.') || 'item'}" ${issue.message}`);
    }
    return parsed.data;
  });
}

function readJsonl(text: string): { where: string; value: unknown }[] {
  const out: { where: string; value: unknown }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push({ where: `line ${i + 1}`, value: JSON.parse(line) });
    } catch (error) {
      throw new ImportError(`line ${i + 1}: not JSON (${(error as Error).message})`);
    }
  });
  return out;
}

function readCsv(text: string): { where: string; value: unknown }[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, bom: true, trim: false });
  } catch (error) {
    throw new ImportError(`not valid CSV: ${(error as Error).message}`);
  }
  return records.map((record, i) => {
    const where = `row ${i + 2}`;
    const json = (column: string, fallback: unknown) => {
      const cell = record[column];
      if (cell === undefined || cell === '') return fallback;
      try {
        return JSON.parse(cell);
      } catch {
        throw new ImportError(`${where}: column "${column}" must hold JSON`);
      }
    };
    const prompt = record.prompt ?? record.question;
    const input =
      record.input !== undefined && record.input !== ''
        ? json('input', undefined)
        : prompt !== undefined
          ? {
              systemInstructions: record.system ? [{ type: 'text', content: record.system }] : null,
              messages: [{ role: 'user', parts: [{ type: 'text', content: prompt }] }],
            }
          : undefined;
    const expected = record.expected_output ?? record.expected;
    return {
      where,
      value: {
        input,
        expectedOutput: expected === undefined || expected === '' ? null : expected,
        assertions: json('assertions', []),
        metadata: json('metadata', {}),
        source: record.source_trace_id ? { traceId: record.source_trace_id, spanId: record.source_span_id } : null,
      },
    };
  });
}
