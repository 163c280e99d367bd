import type { DatasetItem, DatasetSummary, Promotion } from '../api/contract.ts';
import type { ItemPatch, NewItem } from '../datasets/schema.ts';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { sortableId } from './ids.ts';
import { nextVersion, toIso } from './projects.ts';
import { select } from './queries.ts';

interface DatasetRow {
  id: string;
  name: string;
  description: string;
  version: number;
  created_at: string;
  updated_at: string;
  item_count: number;
}

interface ItemRow {
  id: string;
  input: string;
  expected_output: string | null;
  assertions: string;
  metadata: string;
  source_trace_id: string;
  source_span_id: string;
  created_at: string;
  updated_at: string;
}

/** The newest revision of each item at or before a dataset version, without deleted ones. */
const ITEMS_AT_VERSION = `
  SELECT * FROM (
    SELECT * FROM {db}.dataset_items
    WHERE project_id = {project:String} AND dataset_id = {dataset:String} AND dataset_version <= {version:UInt32}
    ORDER BY id, dataset_version DESC
    LIMIT 1 BY id
  ) WHERE deleted = 0 ORDER BY created_at, id`;

/**
 * Datasets of test cases. A dataset's version grows with every change to its items; item
 * revisions are appended, so every version stays readable. Writes to one dataset are serialised
 * in this process, which owns the data (server mode with several collectors would need a lock).
 */
export class DatasetStore {
  readonly #storage: Storage;
  readonly #db: string;
  readonly #writing = new Map<string, Promise<unknown>>();

  constructor(storage: Storage) {
    this.#storage = storage;
    this.#db = quoteIdentifier(storage.database);
  }

  async list(projectId: string): Promise<DatasetSummary[]> {
    return this.#summaries(projectId, null);
  }

  async get(projectId: string, datasetId: string): Promise<DatasetSummary | null> {
    return (await this.#summaries(projectId, datasetId))[0] ?? null;
  }

  /** Live datasets with their current item counts: all of a project's, or just one. */
  async #summaries(projectId: string, datasetId: string | null): Promise<DatasetSummary[]> {
    const only = datasetId === null ? '' : 'AND id = {dataset:String}';
    const onlyItems = datasetId === null ? '' : 'AND dataset_id = {dataset:String}';
    const rows = await select<DatasetRow>(
      this.#storage,
      `SELECT d.id, d.name, d.description, d.version, d.created_at, d.updated_at, coalesce(c.n, 0) AS item_count
       FROM (SELECT * FROM {db}.datasets FINAL WHERE project_id = {project:String} AND deleted = 0 ${only}) AS d
       LEFT JOIN (
         SELECT dataset_id, countIf(deleted = 0) AS n FROM (
           SELECT dataset_id, id, argMax(deleted, dataset_version) AS deleted
           FROM {db}.dataset_items WHERE project_id = {project:String} ${onlyItems} GROUP BY dataset_id, id
         ) GROUP BY dataset_id
       ) AS c ON c.dataset_id = d.id
       ORDER BY d.updated_at DESC`,
      { project: projectId, dataset: datasetId ?? '' },
    );
    return rows.map(toSummary);
  }

  async create(projectId: string, name: string, description: string): Promise<DatasetSummary> {
    const now = Date.now();
    const dataset = { id: sortableId('ds'), name, description, version: 0, created_at: now, updated_at: now };
    await this.#writeDataset(projectId, dataset, false);
    return toSummary({ ...dataset, created_at: iso(now), updated_at: iso(now), item_count: 0 });
  }

  async update(projectId: string, datasetId: string, changes: { name?: string | undefined; description?: string | undefined }): Promise<DatasetSummary | null> {
    return this.#serialised(datasetId, async () => {
      const current = await this.get(projectId, datasetId);
      if (!current) return null;
      const next = { ...current, name: changes.name ?? current.name, description: changes.description ?? current.description };
      await this.#writeDataset(projectId, rowOf(next), false);
      return next;
    });
  }

  async delete(projectId: string, datasetId: string): Promise<boolean> {
    return this.#serialised(datasetId, async () => {
      const current = await this.get(projectId, datasetId);
      if (!current) return false;
      await this.#writeDataset(projectId, rowOf(current), true);
      return true;
    });
  }

  /** The dataset's items as they were at `version` (default: the current one). */
  async items(projectId: string, datasetId: string, version: number): Promise<DatasetItem[]> {
    const rows = await select<ItemRow>(this.#storage, ITEMS_AT_VERSION, { project: projectId, dataset: datasetId, version });
    return rows.map(toItem);
  }

  async addItems(projectId: string, datasetId: string, items: NewItem[]): Promise<{ items: DatasetItem[]; version: number } | null> {
    return this.#serialised(datasetId, async () => {
      const dataset = await this.get(projectId, datasetId);
      if (!dataset) return null;
      const version = dataset.version + 1;
      const now = Date.now();
      const created: DatasetItem[] = items.map((item) => ({
        id: sortableId('item'),
        input: item.input,
        expectedOutput: item.expectedOutput,
        assertions: item.assertions,
        metadata: item.metadata,
        source: item.source,
        createdAt: new Date(now).toISOString(),
        updatedAt: new Date(now).toISOString(),
      }));
      await this.#writeItems(projectId, datasetId, version, created, false);
      await this.#writeDataset(projectId, { ...rowOf(dataset), version }, false);
      return { items: created, version };
    });
  }

  async updateItem(projectId: string, datasetId: string, itemId: string, patch: ItemPatch): Promise<{ item: DatasetItem; version: number } | null> {
    return this.#serialised(datasetId, async () => {
      const dataset = await this.get(projectId, datasetId);
      if (!dataset) return null;
      const current = (await this.items(projectId, datasetId, dataset.version)).find((i) => i.id === itemId);
      if (!current) return null;
      const item: DatasetItem = {
        ...current,
        input: patch.input ?? current.input,
        expectedOutput: patch.expectedOutput !== undefined ? patch.expectedOutput : current.expectedOutput,
        assertions: patch.assertions ?? current.assertions,
        metadata: patch.metadata ?? current.metadata,
        updatedAt: new Date().toISOString(),
      };
      const version = dataset.version + 1;
      await this.#writeItems(projectId, datasetId, version, [item], false);
      await this.#writeDataset(projectId, { ...rowOf(dataset), version }, false);
      return { item, version };
    });
  }

  async deleteItem(projectId: string, datasetId: string, itemId: string): Promise<number | null> {
    return this.#serialised(datasetId, async () => {
      const dataset = await this.get(projectId, datasetId);
      if (!dataset) return null;
      const current = (await this.items(projectId, datasetId, dataset.version)).find((i) => i.id === itemId);
      if (!current) return null;
      const version = dataset.version + 1;
      await this.#writeItems(projectId, datasetId, version, [current], true);
      await this.#writeDataset(projectId, { ...rowOf(dataset), version }, false);
      return version;
    });
  }

  /** Current items promoted from a trace, across the project's live datasets. */
  async promotionsOf(projectId: string, traceId: string): Promise<Promotion[]> {
    const rows = await select<{ dataset_id: string; name: string; id: string; span_id: string }>(
      this.#storage,
      `SELECT i.dataset_id, d.name, i.id, i.span_id FROM (
         SELECT dataset_id, id, argMax(source_span_id, dataset_version) AS span_id, argMax(deleted, dataset_version) AS deleted
         FROM {db}.dataset_items
         WHERE project_id = {project:String} AND source_trace_id = {trace:String}
         GROUP BY dataset_id, id
       ) AS i
       INNER JOIN (SELECT id, name FROM {db}.datasets FINAL WHERE project_id = {project:String} AND deleted = 0) AS d ON d.id = i.dataset_id
       WHERE i.deleted = 0
       ORDER BY d.name, i.id`,
      { project: projectId, trace: traceId },
    );
    return rows.map((r) => ({ datasetId: r.dataset_id, datasetName: r.name, itemId: r.id, spanId: r.span_id }));
  }

  async #serialised<T>(datasetId: string, work: () => Promise<T>): Promise<T> {
    const before = this.#writing.get(datasetId) ?? Promise.resolve();
    const run = before.then(work, work);
    const settled = run.catch(() => undefined);
    this.#writing.set(datasetId, settled);
    settled.then(() => {
      if (this.#writing.get(datasetId) === settled) this.#writing.delete(datasetId);
    });
    return run;
  }

  async #writeDataset(
    projectId: string,
    dataset: { id: string; name: string; description: string; version: number; created_at: number },
    deleted: boolean,
  ): Promise<void> {
    await this.#storage.client.insert({
      table: `${this.#db}.datasets`,
      values: [{ project_id: projectId, ...dataset, updated_at: Date.now(), deleted: deleted ? 1 : 0, row_version: nextVersion() }],
      format: 'JSONEachRow',
    });
  }

  async #writeItems(projectId: string, datasetId: string, version: number, items: DatasetItem[], deleted: boolean): Promise<void> {
    if (items.length === 0) return;
    await this.#storage.client.insert({
      table: `${this.#db}.dataset_items`,
      values: items.map((item) => ({
        project_id: projectId,
        dataset_id: datasetId,
        id: item.id,
        dataset_version: version,
        input: JSON.stringify(item.input),
        expected_output: item.expectedOutput,
        assertions: JSON.stringify(item.assertions),
        metadata: JSON.stringify(item.metadata),
        source_trace_id: item.source?.traceId ?? '',
        source_span_id: item.source?.spanId ?? '',
        created_at: Date.parse(item.createdAt),
        updated_at: Date.parse(item.updatedAt),
        deleted: deleted ? 1 : 0,
      })),
      format: 'JSONEachRow',
    });
  }
}

/** A time as ClickHouse prints it, so a freshly created dataset reads like a stored one. */
function iso(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function toSummary(row: DatasetRow): DatasetSummary {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    version: row.version,
    itemCount: row.item_count,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

function rowOf(dataset: DatasetSummary) {
  return { id: dataset.id, name: dataset.name, description: dataset.description, version: dataset.version, created_at: Date.parse(dataset.createdAt) };
}

function toItem(row: ItemRow): DatasetItem {
  return {
    id: row.id,
    input: JSON.parse(row.input),
    expectedOutput: row.expected_output,
    assertions: JSON.parse(row.assertions),
    metadata: JSON.parse(row.metadata),
    source: row.source_trace_id ? { traceId: row.source_trace_id, spanId: row.source_span_id } : null,
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}
