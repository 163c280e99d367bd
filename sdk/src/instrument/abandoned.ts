// A stream that is created but never read to the end, never broken out of and never aborted would leave its span
// open forever (never exported, so the call would be missing from every dashboard). We end such a span when the
// stream object is garbage-collected: from then on nobody can read it, so the call is over.
//
// Why garbage collection rather than an idle timeout: a timeout cannot tell an abandoned stream from a slow reader
// (a consumer applying backpressure, a user reading a long answer chunk by chunk) and would end live spans early,
// and resetting a timer on every chunk costs more than the whole per-chunk budget. Collection is exact; its only
// cost is that the span ends late (whenever the engine collects). The span's end time is then the last progress we
// timestamped (the response, or the first chunk read — not every chunk: reading the clock per chunk would cost more
// than the rest of the per-chunk work), not the moment of collection, and it carries `parallax.stream.abandoned =
// true` with whatever arrived.
//
// The registry holds the LlmSpan, which must not reference the stream; traced iterators do reference the stream,
// so a stream that is still being read through an iterator (for-await, tee(), toReadableStream()) stays alive.
import type { LlmSpan } from './llm-span.ts';

const registry = new FinalizationRegistry<LlmSpan>((call) => call.abandon());

/** Ends `call` as abandoned when `target` is collected before the call ended. */
export function endWhenAbandoned(target: object, call: LlmSpan): void {
  if (call.ended) return;
  call.progress();
  registry.register(target, call, call);
  call.onEnd = unregister;
}

function unregister(call: LlmSpan): void {
  registry.unregister(call);
}
