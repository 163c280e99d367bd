import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requireKey, type AuthVariables } from './api/auth.ts';
import { apiError } from './api/errors.ts';
import { apiRoutes } from './api/index.ts';
import type { KeyResolver } from './auth/keys.ts';
import type { ExperimentService } from './experiments/service.ts';
import type { IngestBatcher } from './ingest/batcher.ts';
import { encodingOf, ingestTraces, tooLarge } from './ingest/handler.ts';
import type { Storage } from './store/clickhouse.ts';
import { storageOutage } from './store/storage-errors.ts';
import type { DatasetStore } from './store/datasets.ts';
import type { ExperimentStore } from './store/experiments.ts';
import type { PriceOverrideStore } from './store/price-overrides.ts';
import type { ProjectStore } from './store/projects.ts';

export interface AppDeps {
  storage: Storage;
  projects: ProjectStore;
  keys: KeyResolver;
  priceOverrides: PriceOverrideStore;
  datasets: DatasetStore;
  experimentStore: ExperimentStore;
  experiments: ExperimentService;
  batcher: IngestBatcher;
  maxBodyBytes: number;
  retryAfterSeconds: number;
  publicUrl: string;
}

/** The collector's HTTP surface: OTLP ingest, the JSON API, and a health check. */
export function createApp(deps: AppDeps) {
  const app = new Hono<{ Variables: AuthVariables }>();

  app.get('/health', (c) => c.json({ status: 'ok', storage: deps.storage.mode, ingest: deps.batcher.stats }));

  app.post(
    '/v1/traces',
    bodyLimit({
      maxSize: deps.maxBodyBytes,
      onError: (c) => tooLarge(c, encodingOf(c.req.header('content-type')) ?? 'json', deps.maxBodyBytes),
    }),
    requireKey(deps.keys, deps.projects, 'ingest'),
    ingestTraces(deps),
  );

  app.use('/api/v1/*', requireKey(deps.keys, deps.projects, 'full'));
  app.route('/api/v1', apiRoutes(deps));

  app.notFound((c) => apiError(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    const outage = storageOutage(error);
    if (outage) {
      // Like an ingest that could not be committed: nothing was changed, the same request can be retried.
      console.warn(`parallax collector: ${c.req.method} ${c.req.path}: storage unavailable: ${error.message}`);
      c.header('Retry-After', String(deps.retryAfterSeconds));
      return apiError(c, 503, 'storage_unavailable', `storage cannot answer right now (${outage}); retry the request later`);
    }
    console.error(`parallax collector: ${c.req.method} ${c.req.path} failed:`, error);
    return apiError(c, 500, 'internal', `the collector failed on this request: ${error.message}`);
  });
  return app;
}
