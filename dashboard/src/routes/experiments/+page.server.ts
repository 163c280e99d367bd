import { collector } from '#lib/server/collector.ts';
import type { ExperimentConfigSummary } from '#lib/experiments/types.ts';
import type { PageServerLoad } from './$types';

/** Experiments whose pass rates the list shows; older ones link to their page. */
const WITH_FIGURES = 50;

export const load: PageServerLoad = async (event) => {
  const api = collector(event).experiments;
  const [{ experiments }, datasets] = await Promise.all([
    api.list(),
    collector(event)
      .datasets()
      .then(
        (r) => r.datasets,
        () => [],
      ),
  ]);
  const sorted = experiments.toSorted((a, b) => b.createdAt.localeCompare(a.createdAt));
  // Pass rates live on each experiment's details; one failure must not take the list down.
  const summaries = await Promise.all(
    sorted.slice(0, WITH_FIGURES).map((e) =>
      api.details(e.id).then(
        (d) => d.summaries,
        () => null as ExperimentConfigSummary[] | null,
      ),
    ),
  );
  return {
    experiments: sorted.map((experiment, i) => ({ experiment, summaries: summaries[i] ?? null })),
    datasetNames: Object.fromEntries(datasets.map((d) => [d.id, d.name])) as Record<string, string>,
  };
};
