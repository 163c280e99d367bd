// Loads the items to run: a local JSONL file (the collector's export format, one item per line) or a dataset
// from the collector's JSON API. Problems are UsageErrors that say which line or which request failed.
import { existsSync, readFileSync } from 'node:fs';
import type { Assertion, EvalItem } from '../eval/types.ts';
import { UsageError } from './args.ts';

export interface LoadedDataset {
  items: EvalItem[];
  /** Where they came from, for reports: the file, or `dataset <id> v<version>`. */
  source: string;
}

export function isLocalDataset(dataset: string): boolean {
  return /\.jsonl?$/i.test(dataset) || existsSync(dataset);
}

export function readJsonlDataset(path: string): LoadedDataset {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--dataset ${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const items: EvalItem[] = [];
  const ids = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (!line.trim()) return;
    const where = `--dataset ${path} line ${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new UsageError(`${where}: not JSON (${(error as Error).message})`);
    }
    const item = toItem(value, `line-${index + 1}`, where);
    if (ids.has(item.id)) throw new UsageError(`${where}: the id "${item.id}" is used by an earlier line`);
    ids.add(item.id);
    items.push(item);
  });
  if (items.length === 0) throw new UsageError(`--dataset ${path}: the file has no items`);
  return { items, source: path };
}

/** GET /api/v1/datasets/:id[?version=] with the project key. */
export async function fetchCollectorDataset(collector: string, apiKey: string | undefined, id: string, version: number | undefined): Promise<LoadedDataset> {
  if (!apiKey) throw new UsageError(`--dataset ${id}: reading a dataset from the collector needs its API key (--api-key or PARALLAX_API_KEY)`);
  const url = `${collector.replace(/\/+$/, '')}/api/v1/datasets/${encodeURIComponent(id)}${version !== undefined ? `?version=${version}` : ''}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new UsageError(`--dataset ${id}: cannot reach the collector at ${collector} (${(error as Error).message}); is it running? (--collector)`);
  }
  const body = (await response.json().catch(() => null)) as
    | { error?: { message?: string }; version?: number; items?: unknown[]; dataset?: { name?: string } }
    | null;
  if (!response.ok) {
    const message = body?.error?.message ?? response.statusText;
    if (response.status === 401 || response.status === 403) throw new UsageError(`--dataset ${id}: the collector refused the API key (${message})`);
    if (response.status === 404) throw new UsageError(`--dataset ${id}: ${message}`);
    throw new UsageError(`--dataset ${id}: the collector answered ${response.status} (${message})`);
  }
  if (!body || !Array.isArray(body.items)) throw new UsageError(`--dataset ${id}: the collector's answer has no items`);
  const items = body.items.map((raw, i) => toItem(raw, `item-${i + 1}`, `--dataset ${id} item ${i + 1}`));
  if (items.length === 0) throw new UsageError(`--dataset ${id}: version ${body.version} has no items`);
  return { items, source: `dataset ${body.dataset?.name ?? id} v${body.version}` };
}

function toItem(value: unknown, fallbackId: string, where: string): EvalItem {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${where}: expected an object with "input"`);
  const v = value as Record<string, unknown>;
  const input = v.input as EvalItem['input'] | undefined;
  if (!input || typeof input !== 'object' || !Array.isArray(input.messages) || input.messages.length === 0) {
    throw new UsageError(`${where}: "input.messages" must be a non-empty array of GenAI messages ({ role, parts })`);
  }
  for (const [i, message] of input.messages.entries()) {
    if (typeof message?.role !== 'string' || !Array.isArray(message.parts)) throw new UsageError(`${where}: input.messages[${i}] needs "role" and "parts"`);
  }
  const assertions = v.assertions ?? [];
  if (!Array.isArray(assertions)) throw new UsageError(`${where}: "assertions" must be an array`);
  for (const [i, assertion] of assertions.entries()) {
    if (typeof (assertion as { type?: unknown })?.type !== 'string') throw new UsageError(`${where}: assertions[${i}] has no "type"`);
  }
  const expected = v.expectedOutput ?? null;
  if (expected !== null && typeof expected !== 'string') throw new UsageError(`${where}: "expectedOutput" must be a string or null`);
  const metadata = (v.metadata && typeof v.metadata === 'object' ? v.metadata : {}) as Record<string, string>;
  const id = typeof v.id === 'string' && v.id ? v.id : typeof metadata.id === 'string' && metadata.id ? metadata.id : fallbackId;
  return { id, input, expectedOutput: expected, assertions: assertions as Assertion[], metadata };
}
