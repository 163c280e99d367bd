import { collector } from '#lib/server/collector.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ fetch, params }) => {
  const { trace } = await collector(fetch).trace(params.traceId);
  return { trace };
};
