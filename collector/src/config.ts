import { resolve } from 'node:path';

export interface CollectorConfig {
  port: number;
  host: string;
  dataDir: string;
  clickhouse: { url?: string | undefined; username?: string | undefined; password?: string | undefined; database: string };
  /** A key that becomes a full-access key of the default project (headless set-ups). */
  apiKey?: string | undefined;
  maxBodyBytes: number;
  retryAfterSeconds: number;
  /** How often per-project retention runs; 0 turns it off. */
  retentionIntervalSeconds: number;
  /** How SDKs reach this collector, for set-up snippets. */
  publicUrl: string;
  /** Whether spans keep text indexes for message search (text-search.ts); unset means yes. */
  textIndexes?: boolean | undefined;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CollectorConfig {
  const port = intFrom(env, 'PORT', 4318);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.PARALLAX_DATA_DIR ?? '.parallax'),
    clickhouse: {
      url: env.CLICKHOUSE_URL || undefined,
      username: env.CLICKHOUSE_USER,
      password: env.CLICKHOUSE_PASSWORD,
      database: env.CLICKHOUSE_DATABASE ?? 'parallax',
    },
    apiKey: env.PARALLAX_API_KEY || undefined,
    maxBodyBytes: intFrom(env, 'PARALLAX_MAX_BODY_BYTES', 16 * 1024 * 1024),
    retryAfterSeconds: intFrom(env, 'PARALLAX_RETRY_AFTER_SECONDS', 5),
    retentionIntervalSeconds: intFrom(env, 'PARALLAX_RETENTION_INTERVAL_SECONDS', 3600),
    publicUrl: env.PARALLAX_PUBLIC_URL ?? `http://localhost:${port}`,
    textIndexes: onOffFrom(env, 'PARALLAX_TEXT_INDEXES', true),
  };
}

function onOffFrom(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new Error(`${name} must be on or off, got ${JSON.stringify(raw)}`);
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return value;
}
