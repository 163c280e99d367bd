import { fail } from '@sveltejs/kit';
import { collector, failureMessage } from '#lib/server/collector.ts';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const api = collector(event).experiments;
  const id = event.params.experimentId;
  const disagreementsOnly = event.url.searchParams.get('disagreements') === '1';
  const [details, results] = await Promise.all([api.details(id), api.results(id, disagreementsOnly)]);
  const { experiment } = details;
  // Names for the header; the page stands without them.
  const [datasetName, baseline] = await Promise.all([
    collector(event)
      .dataset(experiment.datasetId, experiment.datasetVersion)
      .then(
        (r) => r.dataset.name,
        () => null,
      ),
    experiment.baselineExperimentId
      ? api.details(experiment.baselineExperimentId).then(
          (r) => r.experiment,
          () => null,
        )
      : Promise.resolve(null),
  ]);
  return { details, results, disagreementsOnly, datasetName, baseline };
};

export const actions: Actions = {
  cancel: async (event) => {
    try {
      await collector(event).experiments.cancel(event.params.experimentId);
    } catch (failure) {
      return fail(409, { cancel: { error: failureMessage(failure) } });
    }
    return { cancel: { done: true } };
  },

  rescore: async (event) => {
    try {
      const { experiment } = await collector(event).experiments.rescore(event.params.experimentId);
      return { rescore: { scoreVersion: experiment.scoreVersion } };
    } catch (failure) {
      return fail(409, { rescore: { error: failureMessage(failure) } });
    }
  },
};
