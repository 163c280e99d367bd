import { hashKey, type ApiKeyRecord, type ProjectStore } from '../store/projects.ts';

/**
 * Resolves a presented API key to its record. Every ingest request needs this, so results are
 * kept for a short while instead of querying storage per request; a key revoked through this
 * process is forgotten at once, one revoked elsewhere within `ttlMs`.
 */
export class KeyResolver {
  readonly #projects: ProjectStore;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { record: ApiKeyRecord | null; expires: number }>();

  constructor(projects: ProjectStore, ttlMs = 10_000) {
    this.#projects = projects;
    this.#ttlMs = ttlMs;
  }

  async resolve(plaintext: string): Promise<ApiKeyRecord | null> {
    const keyHash = hashKey(plaintext);
    const cached = this.#cache.get(keyHash);
    if (cached && cached.expires > Date.now()) return cached.record;
    const record = await this.#projects.findKeyByHash(keyHash);
    const usable = record && !record.revoked ? record : null;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(keyHash, { record: usable, expires: Date.now() + (usable ? this.#ttlMs : 1_000) });
    return usable;
  }

  forgetAll(): void {
    this.#cache.clear();
  }
}
