import { randomUUID } from 'node:crypto';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { nextVersion, toIso } from './projects.ts';
import { select } from './queries.ts';

export interface PriceOverride {
  id: string;
  /** Matches a call whose requested or responded model is exactly this. */
  model: string;
  /** '' matches any provider. */
  provider: string;
  inputPerMTok: number | null;
  outputPerMTok: number | null;
  cacheReadPerMTok: number | null;
  cacheWritePerMTok: number | null;
  /** USD per hour of call duration, for self-hosted models on dedicated hardware. */
  perHour: number | null;
  effectiveFrom: string;
  createdAt: string;
}

export type NewPriceOverride = Omit<PriceOverride, 'id' | 'createdAt'>;

interface OverrideRow {
  id: string;
  model: string;
  provider: string;
  input_per_mtok: number | null;
  output_per_mtok: number | null;
  cache_read_per_mtok: number | null;
  cache_write_per_mtok: number | null;
  per_hour: number | null;
  effective_from: string;
  created_at: string;
}

/**
 * A project's price overrides. Ingest prices every span with them, so they are kept in memory
 * per project; a change through this process is seen at once, one from another collector within
 * `ttlMs`.
 */
export class PriceOverrideStore {
  readonly #storage: Storage;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { overrides: Promise<PriceOverride[]>; expires: number }>();

  constructor(storage: Storage, ttlMs = 30_000) {
    this.#storage = storage;
    this.#ttlMs = ttlMs;
  }

  forProject(projectId: string): Promise<PriceOverride[]> {
    const cached = this.#cache.get(projectId);
    if (cached && cached.expires > Date.now()) return cached.overrides;
    const overrides = this.list(projectId);
    this.#cache.set(projectId, { overrides, expires: Date.now() + this.#ttlMs });
    overrides.catch(() => this.#cache.delete(projectId));
    return overrides;
  }

  async list(projectId: string): Promise<PriceOverride[]> {
    const rows = await select<OverrideRow>(
      this.#storage,
      `SELECT * FROM {db}.price_overrides FINAL WHERE project_id = {project:String} AND deleted = 0 ORDER BY model, effective_from`,
      { project: projectId },
    );
    return rows.map(fromRow);
  }

  async create(projectId: string, input: NewPriceOverride): Promise<PriceOverride> {
    const override: PriceOverride = { ...input, id: `price_${randomUUID().replaceAll('-', '').slice(0, 16)}`, createdAt: new Date().toISOString() };
    await this.#write(projectId, override, false);
    return override;
  }

  async delete(projectId: string, id: string): Promise<boolean> {
    const existing = (await this.list(projectId)).find((o) => o.id === id);
    if (!existing) return false;
    await this.#write(projectId, existing, true);
    return true;
  }

  async #write(projectId: string, override: PriceOverride, deleted: boolean): Promise<void> {
    await this.#storage.client.insert({
      table: `${quoteIdentifier(this.#storage.database)}.price_overrides`,
      values: [
        {
          project_id: projectId,
          id: override.id,
          model: override.model,
          provider: override.provider,
          input_per_mtok: override.inputPerMTok,
          output_per_mtok: override.outputPerMTok,
          cache_read_per_mtok: override.cacheReadPerMTok,
          cache_write_per_mtok: override.cacheWritePerMTok,
          per_hour: override.perHour,
          effective_from: Date.parse(override.effectiveFrom),
          created_at: Date.parse(override.createdAt),
          deleted: deleted ? 1 : 0,
          version: nextVersion(),
        },
      ],
      format: 'JSONEachRow',
    });
    this.#cache.delete(projectId);
  }
}

function fromRow(row: OverrideRow): PriceOverride {
  return {
    id: row.id,
    model: row.model,
    provider: row.provider,
    inputPerMTok: row.input_per_mtok,
    outputPerMTok: row.output_per_mtok,
    cacheReadPerMTok: row.cache_read_per_mtok,
    cacheWritePerMTok: row.cache_write_per_mtok,
    perHour: row.per_hour,
    effectiveFrom: toIso(row.effective_from),
    createdAt: toIso(row.created_at),
  };
}
