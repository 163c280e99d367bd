import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { KeyResolver } from './auth/keys.ts';
import { IngestBatcher } from './ingest/batcher.ts';
import type { CollectorConfig } from './config.ts';
import { providerEnvFrom, type ProviderEnv } from './experiments/providers.ts';
import { createSdkRunner } from './experiments/runner.ts';
import { ExperimentService } from './experiments/service.ts';
import { openStorage, type Storage } from './store/clickhouse.ts';
import { migrate } from './store/migrations.ts';
import { DatasetStore } from './store/datasets.ts';
import { ExperimentStore } from './store/experiments.ts';
import { PriceOverrideStore } from './store/price-overrides.ts';
import { DEFAULT_PROJECT_ID, generateKey, hashKey, ProjectStore } from './store/projects.ts';
import { scheduleRetention } from './store/retention.ts';
import { syncTextIndexes } from './store/text-search.ts';
import { scheduleSealing } from './store/trace-totals.ts';
import { createApp } from './server.ts';

export { configFromEnv, type CollectorConfig } from './config.ts';
export type * from './api/contract.ts';
// For benchmarks that insert the same rows directly, as a baseline for ingest.
export type { SpanRow } from './ingest/normalize.ts';
export { isContentAttribute } from './ingest/content-attributes.ts';
/** Tables the collector derives from spans (and the column each is dated by): benchmarks count their bytes too. */
export { DERIVED_TABLES } from './store/retention.ts';
/** Benchmarks seal the traces they seed at once, as a collector running for a minute would have. */
export { sealTraces } from './store/trace-totals.ts';
export type { ProviderEnv } from './experiments/providers.ts';

/** Start-up settings; `providers` (keys and base URLs for experiments) defaults to the process environment. */
export type CollectorStartConfig = CollectorConfig & { providers?: ProviderEnv | undefined };

export interface RunningCollector {
  url: string;
  port: number;
  storage: Storage;
  projects: ProjectStore;
  keys: KeyResolver;
  /** Set when this start created the first key itself; shown once, never stored in plain text. */
  generatedKey: string | null;
  close(): Promise<void>;
}

/** Opens storage, migrates it, makes sure a project and a key exist, and serves HTTP. */
export async function startCollector(config: CollectorStartConfig): Promise<RunningCollector> {
  const storage = await openStorage({ ...config.clickhouse, dataDir: config.dataDir });
  await migrate(storage);
  await syncTextIndexes(storage, config.textIndexes ?? true);
  const projects = new ProjectStore(storage);
  const generatedKey = await ensureProjectAndKey(projects, config.apiKey);
  const keys = new KeyResolver(projects);
  const priceOverrides = new PriceOverrideStore(storage);
  const datasets = new DatasetStore(storage);
  const batcher = new IngestBatcher(storage);
  const experimentStore = new ExperimentStore(storage);
  const providers = config.providers ?? providerEnvFrom();
  const experiments = new ExperimentService({
    store: experimentStore,
    datasets,
    priceOverrides,
    providers,
    runner: createSdkRunner({ batcher, priceOverrides, providers }),
  });
  await experiments.recover();
  const app = createApp({
    storage,
    projects,
    keys,
    priceOverrides,
    datasets,
    experimentStore,
    experiments,
    batcher,
    maxBodyBytes: config.maxBodyBytes,
    retryAfterSeconds: config.retryAfterSeconds,
    publicUrl: config.publicUrl,
  });
  const server = await new Promise<ServerType>((resolveServer, reject) => {
    const s = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, () => resolveServer(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const stopSealing = scheduleSealing(storage);
  const stopRetention = config.retentionIntervalSeconds > 0 ? scheduleRetention(storage, projects, config.retentionIntervalSeconds * 1000) : () => {};
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    storage,
    projects,
    keys,
    generatedKey,
    close: async () => {
      stopRetention();
      await stopSealing();
      await experiments.close();
      await new Promise<void>((done) => server.close(() => done()));
      await storage.close();
    },
  };
}

async function ensureProjectAndKey(projects: ProjectStore, configuredKey: string | undefined): Promise<string | null> {
  if (!(await projects.getProject(DEFAULT_PROJECT_ID))) {
    await projects.createProject('Default project', DEFAULT_PROJECT_ID);
  }
  if (configuredKey) {
    if (!(await projects.findKeyByHash(hashKey(configuredKey)))) {
      await projects.addKey(DEFAULT_PROJECT_ID, configuredKey, { name: 'PARALLAX_API_KEY', scope: 'admin' });
    }
    return null;
  }
  if ((await projects.listKeys(DEFAULT_PROJECT_ID)).length > 0) return null;
  const key = generateKey();
  await projects.addKey(DEFAULT_PROJECT_ID, key, { name: 'first key', scope: 'admin' });
  return key;
}
