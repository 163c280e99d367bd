import { quoteIdentifier, type Storage } from './clickhouse.ts';
import type { ProjectStore } from './projects.ts';
import { select } from './queries.ts';

export interface RetentionResult {
  projectId: string;
  deletedSpans: number;
}

/**
 * Deletes spans older than each project's retention (0 keeps everything). Retention is per
 * project, which one table TTL cannot express, so this runs as a lightweight DELETE per project.
 */
export async function applyRetention(storage: Storage, projects: ProjectStore, now = new Date()): Promise<RetentionResult[]> {
  const results: RetentionResult[] = [];
  for (const project of await projects.listProjects()) {
    if (project.retentionDays <= 0) continue;
    const params = { project: project.id, cutoff: new Date(now.getTime() - project.retentionDays * 86_400_000).toISOString().replace('T', ' ').replace('Z', '') };
    const where = "project_id = {project:String} AND start_time < {cutoff:DateTime64(3, 'UTC')}";
    const [expired] = await select<{ n: number }>(storage, `SELECT count() AS n FROM {db}.spans WHERE ${where}`, params);
    if (!expired?.n) continue;
    const db = quoteIdentifier(storage.database);
    await storage.client.command({ query: `DELETE FROM ${db}.spans WHERE ${where}`, query_params: params });
    await storage.client.command({
      query: `DELETE FROM ${db}.trace_hours WHERE project_id = {project:String} AND hour < toStartOfHour({cutoff:DateTime64(3, 'UTC')})`,
      query_params: params,
    });
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
