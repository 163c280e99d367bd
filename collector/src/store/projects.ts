import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';

/**
 * ingest: may only send spans. full: reads and writes its own project's data.
 * admin: also manages projects and keys, and may act on any project (the operator's key).
 */
export type KeyScope = 'ingest' | 'full' | 'admin';

export const KEY_SCOPES: readonly KeyScope[] = ['ingest', 'full', 'admin'];

export interface Project {
  id: string;
  name: string;
  retentionDays: number;
  createdAt: string;
}

export interface ApiKeyRecord {
  id: string;
  projectId: string;
  name: string;
  scope: KeyScope;
  /** First characters of the key, so a person can tell keys apart without the secret. */
  prefix: string;
  createdAt: string;
  revoked: boolean;
}

export const DEFAULT_PROJECT_ID = 'default';

export function hashKey(plaintext: string): string {
  return createHash('sha256').update(plaintext).digest('hex');
}

export function generateKey(): string {
  return `px_${randomBytes(24).toString('base64url')}`;
}

/** Projects and their API keys: versioned rows in ReplacingMergeTree tables, read with FINAL. */
export class ProjectStore {
  readonly #storage: Storage;
  readonly #db: string;

  constructor(storage: Storage) {
    this.#storage = storage;
    this.#db = quoteIdentifier(storage.database);
  }

  async listProjects(): Promise<Project[]> {
    return this.#projects(null);
  }

  async getProject(id: string): Promise<Project | null> {
    return (await this.#projects(id))[0] ?? null;
  }

  async #projects(id: string | null): Promise<Project[]> {
    const rows = await this.#select<{ id: string; name: string; retention_days: number; created_at: string }>(
      `SELECT id, name, retention_days, created_at FROM ${this.#db}.projects FINAL
       WHERE deleted = 0 ${id === null ? '' : 'AND id = {id:String}'} ORDER BY created_at`,
      { id: id ?? '' },
    );
    return rows.map((r) => ({ id: r.id, name: r.name, retentionDays: r.retention_days, createdAt: toIso(r.created_at) }));
  }

  async createProject(name: string, id: string = `proj_${randomUUID().replaceAll('-', '').slice(0, 16)}`): Promise<Project> {
    const createdAt = new Date();
    await this.#storage.client.insert({
      table: `${this.#db}.projects`,
      values: [{ id, name, retention_days: 0, created_at: createdAt.getTime(), deleted: 0, version: nextVersion() }],
      format: 'JSONEachRow',
    });
    return { id, name, retentionDays: 0, createdAt: createdAt.toISOString() };
  }

  async updateProject(id: string, changes: { name?: string | undefined; retentionDays?: number | undefined }): Promise<Project | null> {
    const current = await this.getProject(id);
    if (!current) return null;
    const next = { ...current, name: changes.name ?? current.name, retentionDays: changes.retentionDays ?? current.retentionDays };
    await this.#storage.client.insert({
      table: `${this.#db}.projects`,
      values: [
        { id, name: next.name, retention_days: next.retentionDays, created_at: Date.parse(current.createdAt), deleted: 0, version: nextVersion() },
      ],
      format: 'JSONEachRow',
    });
    return next;
  }

  /** Stores a key (hashed) and returns its record; the plaintext is never stored. */
  async addKey(projectId: string, plaintext: string, options: { name: string; scope: KeyScope }): Promise<ApiKeyRecord> {
    const record: ApiKeyRecord = {
      id: `key_${randomUUID().replaceAll('-', '').slice(0, 16)}`,
      projectId,
      name: options.name,
      scope: options.scope,
      prefix: plaintext.slice(0, 7),
      createdAt: new Date().toISOString(),
      revoked: false,
    };
    await this.#writeKey(hashKey(plaintext), record);
    return record;
  }

  async findKeyByHash(keyHash: string): Promise<ApiKeyRecord | null> {
    const rows = await this.#select<KeyRow>(
      `SELECT * FROM ${this.#db}.api_keys FINAL WHERE key_hash = {hash:String} LIMIT 1`,
      { hash: keyHash },
    );
    const row = rows[0];
    return row ? fromKeyRow(row) : null;
  }

  async listKeys(projectId: string): Promise<ApiKeyRecord[]> {
    const rows = await this.#select<KeyRow>(
      `SELECT * FROM ${this.#db}.api_keys FINAL WHERE project_id = {project:String} ORDER BY created_at`,
      { project: projectId },
    );
    return rows.map(fromKeyRow);
  }

  async revokeKey(projectId: string, keyId: string): Promise<ApiKeyRecord | null> {
    const rows = await this.#select<KeyRow>(
      `SELECT * FROM ${this.#db}.api_keys FINAL WHERE project_id = {project:String} AND id = {id:String} LIMIT 1`,
      { project: projectId, id: keyId },
    );
    const row = rows[0];
    if (!row) return null;
    const record = { ...fromKeyRow(row), revoked: true };
    await this.#writeKey(row.key_hash, record);
    return record;
  }

  async #writeKey(keyHash: string, record: ApiKeyRecord): Promise<void> {
    await this.#storage.client.insert({
      table: `${this.#db}.api_keys`,
      values: [
        {
          key_hash: keyHash,
          id: record.id,
          project_id: record.projectId,
          name: record.name,
          scope: record.scope,
          prefix: record.prefix,
          created_at: Date.parse(record.createdAt),
          revoked: record.revoked ? 1 : 0,
          version: nextVersion(),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  async #select<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.#storage.client.query({ query, query_params: params, format: 'JSONEachRow' });
    return result.json<T>();
  }
}

let versionCounter = 0;
/** Row versions for ReplacingMergeTree: must grow even for two writes in the same millisecond. */
export function nextVersion(): number {
  return Date.now() * 1000 + (versionCounter++ % 1000);
}

interface KeyRow {
  key_hash: string;
  id: string;
  project_id: string;
  name: string;
  scope: string;
  prefix: string;
  created_at: string;
  revoked: number;
}

function fromKeyRow(row: KeyRow): ApiKeyRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    name: row.name,
    scope: (KEY_SCOPES as readonly string[]).includes(row.scope) ? (row.scope as KeyScope) : 'ingest',
    prefix: row.prefix,
    createdAt: toIso(row.created_at),
    revoked: row.revoked === 1,
  };
}

/** ClickHouse prints DateTime64 as `2026-11-24 06:00:00.123` (UTC columns). */
export function toIso(clickhouseTime: string): string {
  return `${clickhouseTime.replace(' ', 'T')}Z`;
}
