import { collector } from '#lib/server/collector.ts';
import type { Promotion } from '#lib/api-types.ts';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async (event) => {
  const api = collector(event);
  const [{ trace }, promotions] = await Promise.all([
    api.trace(event.params.traceId),
    // The trace is what people came for; if promotions cannot be listed, say so on the page instead of failing it.
    api.promotions(event.params.traceId).then(
      (r) => r.promotions,
      () => null as Promotion[] | null,
    ),
  ]);
  return { trace, promotions };
};
