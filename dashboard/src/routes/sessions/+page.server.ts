import { collector } from '#lib/server/collector.ts';
import { timeRangeOf } from '#lib/time-range.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const range = timeRangeOf(event.url.searchParams);
  const user = event.url.searchParams.get('user')?.trim() ?? '';
  const { sessions } = await collector(event).sessions({ from: range.from, to: range.to, user, limit: 200 });
  return { range, user, sessions };
};
