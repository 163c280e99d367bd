import { Hono } from 'hono';
import type { KeyResolver } from '../auth/keys.ts';
import type { ExperimentService } from '../experiments/service.ts';
import type { Storage } from '../store/clickhouse.ts';
import type { DatasetStore } from '../store/datasets.ts';
import type { ExperimentStore } from '../store/experiments.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import type { ProjectStore } from '../store/projects.ts';
import type { AuthVariables } from './auth.ts';
import { datasetRoutes } from './dataset-routes.ts';
import { experimentRoutes } from './experiment-routes.ts';
import { metricsRoutes } from './metrics-routes.ts';
import { priceRoutes } from './price-routes.ts';
import { projectRoutes } from './project-routes.ts';
import { sessionRoutes } from './session-routes.ts';
import { traceRoutes } from './trace-routes.ts';

export interface ApiDeps {
  storage: Storage;
  projects: ProjectStore;
  keys: KeyResolver;
  priceOverrides: PriceOverrideStore;
  datasets: DatasetStore;
  experimentStore: ExperimentStore;
  experiments: ExperimentService;
  /** The URL SDKs should export to, shown in set-up snippets. */
  publicUrl: string;
}

/** The JSON API under /api/v1. Every route acts on the request's project (see requireKey). */
export function apiRoutes(deps: ApiDeps) {
  const api = new Hono<{ Variables: AuthVariables }>();
  api.route('/', projectRoutes(deps));
  api.route('/metrics', metricsRoutes(deps.storage));
  api.route('/', traceRoutes(deps.storage));
  api.route('/', sessionRoutes(deps.storage));
  api.route('/prices', priceRoutes(deps.storage, deps.priceOverrides));
  api.route('/', datasetRoutes(deps.storage, deps.datasets));
  api.route('/', experimentRoutes(deps));
  return api;
}
