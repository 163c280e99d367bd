import { collector } from '#lib/server/collector.ts';

export const load = async ({ fetch, params }) => {
  const { trace } = await collector(fetch).trace(params.traceId);
  return { trace };
};
