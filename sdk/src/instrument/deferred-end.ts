// Finishing an LLM span off the caller's path. Ending a span costs more than starting it: the content JSON, an
// OpenTelemetry validation pass per attribute, the span processors' onEnd. None of it changes what the caller gets
// back, so when a call ends, llm-span.ts takes only what must be taken then (the end time, the result attributes,
// the output converted to our own objects, since the caller may change the response afterwards) and queues the
// rest here. On this provider the span is not even created yet (deferred-start.ts): finishing creates it, with the
// start time and ids planned when the call began, then sets its attributes and ends it. One setImmediate finishes
// every queued span after the caller has its result; in a real app that runs while the process waits on the network
// for the next response.
//
// Only spans bound for the provider init() built are queued: that provider drains the queue whenever it is flushed
// or shut down (flush(), shutdown(), or directly on `init().tracerProvider`), so every span reaches the exporter as
// before. An app's own provider (given to init() or wrap(), or registered globally) gets its spans started and ended
// during the call, because its forceFlush() and shutdown() cannot know about this queue: an app that awaits a call
// and then shuts its provider down would lose that call's span.
//
// Exiting without flush(): the pending setImmediate keeps the process alive until the queue is drained into the
// batch processor, which — as without this queue — exports only on flush(), on its timer, or at shutdown().
// process.exit() skips all of that, so a short-lived process must await flush() (or shutdown()) first.
import { diag } from '@opentelemetry/api';

export interface DeferredEnd {
  /** Does the queued part of ending the span. Called once. */
  finishDeferred(): void;
}

let queue: DeferredEnd[] = [];
let scheduled = false;

export function deferEnd(item: DeferredEnd): void {
  queue.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(drainDeferredEnds);
  }
}

/** Finishes every queued span now (init()'s provider calls this when flushed or shut down). Never throws. */
export function drainDeferredEnds(): void {
  // Swap the queue out first, so a drain started from inside a finish (an exporter calling flush()) cannot finish
  // the same span twice; spans queued meanwhile are taken by the next round of the loop.
  while (queue.length) {
    const batch = queue;
    queue = [];
    for (const item of batch) {
      try {
        item.finishDeferred();
      } catch (error) {
        diag.debug('@parallax/sdk: finishing a span failed; the call itself was unaffected', error);
      }
    }
  }
  scheduled = false;
}
