import { quoteIdentifier, type Storage } from './clickhouse.ts';
import { clickhouseParamTime } from './filters.ts';
import type { ProjectStore } from './projects.ts';
import { select } from './queries.ts';
import { trimTraceTotals } from './trace-totals.ts';

export interface RetentionResult {
  projectId: string;
  deletedSpans: number;
}

/** Tables derived from spans, and the column with the hour or day each row summarises. */
export const DERIVED_TABLES: ReadonlyArray<[table: string, period: string]> = [
  ['trace_summaries', 'hour'],
  ['llm_hours', 'hour'],
  ['llm_hours_sample', 'hour'],
  ['llm_days_sample', 'day'],
  ['session_hours', 'hour'],
  ['session_traces', 'hour'],
  ['dimension_hours', 'hour'],
];

/**
 * Deletes spans older than each project's retention (0 keeps everything). Retention is per
 * project, which one table TTL cannot express, so this runs as a lightweight DELETE per project.
 * The cutoff is rounded down to the start of its UTC day so the hourly and daily rollups lose
 * exactly the hours and days the spans lose (a span may outlive its retention by up to a day).
 * Derived rows go first (trace_totals after the trace_summaries rows it sums): if a run stops
 * half-way, the spans still there are found and deleted again by the next run.
 */
export async function applyRetention(storage: Storage, projects: ProjectStore, now = new Date()): Promise<RetentionResult[]> {
  const results: RetentionResult[] = [];
  const db = quoteIdentifier(storage.database);
  for (const project of await projects.listProjects()) {
    if (project.retentionDays <= 0) continue;
    const cutoff = new Date(Math.floor((now.getTime() - project.retentionDays * 86_400_000) / 86_400_000) * 86_400_000);
    const params = { project: project.id, cutoff: clickhouseParamTime(cutoff) };
    const [expired] = await select<{ n: number }>(storage, `SELECT count() AS n FROM {db}.spans WHERE project_id = {project:String} AND start_time < {cutoff:DateTime64(3, 'UTC')}`, params);
    if (!expired?.n) continue;
    for (const [table, period] of DERIVED_TABLES) {
      await storage.client.command({
        query: `DELETE FROM ${db}.${table} WHERE project_id = {project:String} AND ${period} < {cutoff:DateTime64(3, 'UTC')}`,
        query_params: params,
      });
    }
    await trimTraceTotals(storage, project.id, cutoff);
    await storage.client.command({ query: `DELETE FROM ${db}.spans WHERE project_id = {project:String} AND start_time < {cutoff:DateTime64(3, 'UTC')}`, query_params: params });
    results.push({ projectId: project.id, deletedSpans: expired.n });
  }
  return results;
}

/** Applies retention now and then every `intervalMs`, without keeping the process alive. */
export function scheduleRetention(storage: Storage, projects: ProjectStore, intervalMs: number): () => void {
  const run = () =>
    applyRetention(storage, projects)
      .then((results) => {
        for (const r of results) console.log(`parallax collector: retention removed ${r.deletedSpans} spans of project ${r.projectId}`);
      })
      .catch((error: Error) => console.error(`parallax collector: retention failed, will retry: ${error.message}`));
  void run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
