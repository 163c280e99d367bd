import { Hono } from 'hono';
import type { AuthVariables } from './auth.ts';
import type { BreakdownResponse, DimensionValuesResponse, ModelMetricsResponse, TimeseriesResponse } from './contract.ts';
import { apiError } from './errors.ts';
import { breakdownQuery, describeIssue, dimensionValuesQuery, rangeAndFilters, timeseriesQuery, toFilter } from './params.ts';
import type { Storage } from '../store/clickhouse.ts';
import { dimensionValues } from '../store/dimension-hours.ts';
import { bucketSecondsFor, metricsBreakdown, modelMetrics, timeseries } from '../store/metrics.ts';

export function metricsRoutes(storage: Storage) {
  const api = new Hono<{ Variables: AuthVariables }>();

  api.get('/models', async (c) => {
    const parsed = rangeAndFilters.safeParse(c.req.query());
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const filter = toFilter(c.get('projectId'), parsed.data);
    const body: ModelMetricsResponse = {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      models: await modelMetrics(storage, filter),
    };
    return c.json(body);
  });

  api.get('/breakdown', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const extra = breakdownQuery.safeParse(query);
    if (!extra.success) return apiError(c, 400, 'invalid_query', describeIssue(extra.error));
    const filter = toFilter(c.get('projectId'), parsed.data);
    const body: BreakdownResponse = {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      groupBy: extra.data.groupBy,
      rows: await metricsBreakdown(storage, filter, extra.data.groupBy, extra.data.limit),
    };
    return c.json(body);
  });

  // What the filter menus offer: the values of one dimension in the range, other filters ignored.
  api.get('/values', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const extra = dimensionValuesQuery.safeParse(query);
    if (!extra.success) return apiError(c, 400, 'invalid_query', describeIssue(extra.error));
    const { projectId, from, to } = toFilter(c.get('projectId'), parsed.data);
    const body: DimensionValuesResponse = {
      from: from.toISOString(),
      to: to.toISOString(),
      dimension: extra.data.dimension,
      values: await dimensionValues(storage, projectId, from, to, extra.data.dimension, extra.data.limit),
    };
    return c.json(body);
  });

  api.get('/timeseries', async (c) => {
    const query = c.req.query();
    const parsed = rangeAndFilters.safeParse(query);
    if (!parsed.success) return apiError(c, 400, 'invalid_query', describeIssue(parsed.error));
    const extra = timeseriesQuery.safeParse(query);
    if (!extra.success) return apiError(c, 400, 'invalid_query', describeIssue(extra.error));
    const filter = toFilter(c.get('projectId'), parsed.data);
    const bucketSeconds = extra.data.bucket ?? bucketSecondsFor(filter.from, filter.to);
    if ((filter.to.getTime() - filter.from.getTime()) / 1000 / bucketSeconds > 2000) {
      return apiError(c, 400, 'invalid_query', `invalid "bucket": ${bucketSeconds}s buckets over this range make more than 2000 points`);
    }
    const body: TimeseriesResponse = {
      from: filter.from.toISOString(),
      to: filter.to.toISOString(),
      groupBy: extra.data.groupBy,
      bucketSeconds,
      points: await timeseries(storage, filter, bucketSeconds, extra.data.groupBy),
    };
    return c.json(body);
  });

  return api;
}
