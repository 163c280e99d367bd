import { fail, redirect } from '@sveltejs/kit';
import { CollectorError, collector } from '#lib/server/collector.ts';
import { blankConfig, blankScorer, MAX_ROWS, parseRun, parseStart, valuesFromForm } from '#lib/experiments/form.ts';
import type { DatasetSummary } from '#lib/api-types.ts';
import type { ExperimentSummary } from '#lib/experiments/types.ts';
import type { Actions, PageServerLoad } from './$types';

const MONTH = 30 * 86_400_000;

export const load: PageServerLoad = async (event) => {
  const api = collector(event);
  const now = Date.now();
  const [datasets, experiments, models] = await Promise.all([
    api.datasets().then((r) => r.datasets),
    // The baseline menu and the model suggestions help; the form works without them.
    collector(event).experiments
      .list()
      .then(
        (r) => r.experiments,
        () => [] as ExperimentSummary[],
      ),
    api
      .modelMetrics({ from: new Date(now - MONTH).toISOString(), to: new Date(now).toISOString() })
      .then(
        (r) => r.models.map((m) => ({ model: m.model, provider: m.provider, calls: m.calls })),
        () => [] as { model: string; provider: string; calls: number }[],
      ),
  ]);
  const asked = event.url.searchParams.get('dataset') ?? '';
  const dataset: DatasetSummary | undefined = datasets.find((d) => d.id === asked);
  // The dataset page links here with the version on screen; an old version is a deliberate choice worth keeping.
  const version = Number(event.url.searchParams.get('version'));
  return {
    datasets,
    experiments,
    models,
    preselected: dataset?.id ?? datasets[0]?.id ?? '',
    preselectedVersion: dataset && Number.isInteger(version) && version >= 1 && version < dataset.version ? String(version) : '',
    unknownDataset: asked !== '' && !dataset ? asked : null,
  };
};

/** The collector's refusal in words; a missing provider key says where it is set. */
function refusal(failure: unknown): { error: string; providerMissing: boolean } {
  if (!(failure instanceof CollectorError)) throw failure;
  return { error: failure.message, providerMissing: failure.status === 422 && /\bkey\b/.test(failure.message) };
}

export const actions: Actions = {
  /** "+ Add configuration" / "+ Add scorer" without JavaScript: the form comes back with one more row. */
  addRow: async (event) => {
    const form = await event.request.formData();
    const values = valuesFromForm(form);
    const row = form.get('addRow');
    if (row === 'config' && values.configs.length < MAX_ROWS) values.configs.push(blankConfig());
    if (row === 'scorer' && values.scorers.length < MAX_ROWS) values.scorers.push(blankScorer());
    return { values };
  },

  estimate: async (event) => {
    const values = valuesFromForm(await event.request.formData());
    const run = parseRun(values);
    if (!run.ok) return fail(400, { values, error: run.error, providerMissing: false });
    try {
      const estimate = await collector(event).experiments.estimate(run.value);
      return { values, estimate };
    } catch (failure) {
      return fail(422, { values, ...refusal(failure) });
    }
  },

  start: async (event) => {
    const values = valuesFromForm(await event.request.formData());
    const start = parseStart(values);
    if (!start.ok) return fail(400, { values, error: start.error, providerMissing: false });
    let id: string;
    try {
      id = (await collector(event).experiments.start(start.value)).experiment.id;
    } catch (failure) {
      return fail(422, { values, ...refusal(failure) });
    }
    redirect(303, `/experiments/${encodeURIComponent(id)}`);
  },
};
