import { collector } from '#lib/server/collector.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const range = timeRangeOf(event.url.searchParams);
  const params = event.url.searchParams;
  const { models } = await collector(event).modelMetrics({ from: range.from, to: range.to });
  // Production's models, most expensive first: the from-model worth simulating is usually the top one.
  const production = models
    .toSorted((a, b) => (b.cost ?? -1) - (a.cost ?? -1) || b.calls - a.calls)
    .map((m) => m.model)
    // The same model through two providers is one choice: the simulator selects calls by model name.
    .filter((model, i, all) => model !== '' && all.indexOf(model) === i);
  const fromModel = params.get('fromModel')?.trim() || production[0] || '';
  const toModel = params.get('toModel')?.trim() ?? '';
  const toProvider = params.get('toProvider')?.trim() ?? '';
  const simulation =
    fromModel && toModel
      ? await collector(event).switchSimulator({ from: range.from, to: range.to, fromModel, toModel, toProvider: toProvider || undefined })
      : null;
  return { range, production, fromModel, toModel, toProvider, simulation };
};
