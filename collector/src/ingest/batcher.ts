import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { SpanRow } from './normalize.ts';
import { quoteIdentifier, StorageUnavailableError, type Storage } from '../store/clickhouse.ts';

export interface BatcherOptions {
  /** Largest number of rows in one INSERT; a larger backlog is split. */
  maxRows: number;
  /** Tokens remembered in memory to answer a retry without asking storage. */
  rememberTokens: number;
}

export interface IngestStats {
  requests: number;
  duplicates: number;
  batches: number;
  spans: number;
}

interface Pending {
  token: string;
  projectId: string;
  /** The rows as JSONEachRow text, encoded on arrival (see IngestBatcher). */
  rowsText: string;
  rows: number;
  done: { resolve: () => void; reject: (error: Error) => void };
}

/**
 * Group commit for ingest. A request waits while an INSERT is in flight, then everything that
 * queued up meanwhile goes into the next INSERT together. An idle collector inserts at once, and
 * a busy one makes fewer, larger inserts as exports arrive faster. A request is answered only
 * after its rows are committed, so a 200 still means committed.
 *
 * Idempotency: each request has a token (a hash of project and body). Tokens committed recently
 * are kept in memory; the others are checked against the ingest_requests table once per batch.
 * A retried export is then acknowledged without storing its spans twice.
 *
 * ClickHouse takes one INSERT at a time here, so the time between two is lost to every request
 * waiting: rows are encoded for the INSERT when they arrive, while the previous one runs, not
 * when the next one starts.
 */
export class IngestBatcher {
  readonly #storage: Storage;
  readonly #db: string;
  readonly #options: BatcherOptions;
  readonly #queue: Pending[] = [];
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #committed = new Set<string>();
  #flushing = false;
  readonly stats: IngestStats = { requests: 0, duplicates: 0, batches: 0, spans: 0 };

  constructor(storage: Storage, options: Partial<BatcherOptions> = {}) {
    this.#storage = storage;
    this.#db = quoteIdentifier(storage.database);
    this.#options = { maxRows: 50_000, rememberTokens: 100_000, ...options };
  }

  /** Resolves once the rows are committed (or were already); rejects with StorageUnavailableError. */
  submit(token: string, projectId: string, rows: SpanRow[]): Promise<void> {
    this.stats.requests++;
    if (this.#committed.has(token)) {
      this.stats.duplicates++;
      return Promise.resolve();
    }
    const same = this.#inFlight.get(token);
    if (same) {
      this.stats.duplicates++;
      return same;
    }
    const rowsText = encodeJsonEachRow(rows);
    const promise = new Promise<void>((resolve, reject) => {
      this.#queue.push({ token, projectId, rowsText, rows: rows.length, done: { resolve, reject } });
    });
    this.#inFlight.set(token, promise);
    const forget = () => this.#inFlight.delete(token);
    promise.then(forget, forget);
    if (!this.#flushing) void this.#flush();
    return promise;
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length) {
        const batch: Pending[] = [];
        let rows = 0;
        while (this.#queue.length && (batch.length === 0 || rows + this.#queue[0]!.rows <= this.#options.maxRows)) {
          const next = this.#queue.shift()!;
          batch.push(next);
          rows += next.rows;
        }
        await this.#commit(batch);
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #commit(batch: Pending[]): Promise<void> {
    try {
      const already = await this.#alreadyCommitted(batch.map((p) => p.token));
      const fresh = batch.filter((p) => !already.has(p.token));
      this.stats.duplicates += batch.length - fresh.length;
      const rows = fresh.reduce((sum, p) => sum + p.rows, 0);
      if (rows) {
        await this.#insertSpans(fresh.map((p) => p.rowsText));
        this.stats.batches++;
        this.stats.spans += rows;
      }
      if (fresh.length) await this.#recordTokens(fresh);
      for (const pending of batch) this.#remember(pending.token);
      for (const pending of batch) pending.done.resolve();
    } catch (error) {
      const failure = new StorageUnavailableError(`ClickHouse did not accept the spans: ${(error as Error).message}`);
      for (const pending of batch) pending.done.reject(failure);
    }
  }

  /**
   * What client.insert({ format: 'JSONEachRow' }) sends for the same rows, already encoded: exec
   * passes text through, where insert would encode the rows again.
   */
  async #insertSpans(rowsTexts: string[]): Promise<void> {
    const result = await this.#storage.client.exec({
      query: `INSERT INTO ${this.#db}.spans SETTINGS async_insert = 0 FORMAT JSONEachRow`,
      values: Readable.from(rowsTexts),
    });
    // Over HTTP the response must be read to free the connection; it is empty.
    result.stream.resume();
    await finished(result.stream);
  }

  async #alreadyCommitted(tokens: string[]): Promise<Set<string>> {
    const result = await this.#storage.client.query({
      query: `SELECT token FROM ${this.#db}.ingest_requests WHERE token IN {tokens:Array(FixedString(32))}`,
      query_params: { tokens },
      format: 'JSONEachRow',
    });
    return new Set((await result.json<{ token: string }>()).map((r) => r.token));
  }

  /**
   * After the spans: were this to fail, the spans are still committed, so the request is still
   * answered 200 and remembered in memory; only a retry after a restart could then double.
   */
  async #recordTokens(batch: Pending[]): Promise<void> {
    try {
      await this.#storage.client.insert({
        table: `${this.#db}.ingest_requests`,
        values: batch.map((p) => ({ token: p.token, project_id: p.projectId, spans: p.rows })),
        format: 'JSONEachRow',
      });
    } catch (error) {
      console.error(`parallax collector: spans stored, but their request tokens were not: ${(error as Error).message}`);
    }
  }

  #remember(token: string): void {
    if (this.#committed.size >= this.#options.rememberTokens) {
      // Sets iterate in insertion order: drop the oldest.
      this.#committed.delete(this.#committed.values().next().value!);
    }
    this.#committed.add(token);
  }
}

/** JSONEachRow exactly as @clickhouse/client's insert writes it: one JSON object per line. */
function encodeJsonEachRow(rows: SpanRow[]): string {
  return rows.map((row) => JSON.stringify(row) + '\n').join('');
}
