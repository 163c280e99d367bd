import { collector } from '#lib/server/collector.ts';
import { CollectorError } from '#lib/server/collector.ts';
import type { RequestHandler } from './$types';

/**
 * The collector's progress stream for one experiment, passed through as it comes, so the browser
 * never needs the collector's address or key. Closing the page closes the upstream request too.
 */
export const GET: RequestHandler = async (event) => {
  try {
    const upstream = await collector(event).experiments.events(event.params.experimentId, event.request.signal);
    return new Response(upstream.body, {
      headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
    });
  } catch (failure) {
    if (!(failure instanceof CollectorError)) throw failure;
    return new Response(failure.message, { status: failure.status >= 400 && failure.status <= 599 ? failure.status : 502, headers: { 'content-type': 'text/plain' } });
  }
};
