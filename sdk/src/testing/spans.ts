// Test support: a TracerProvider whose spans land in memory, and the context manager withContext() needs.
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';

export interface SpanCapture {
  tracerProvider: TracerProvider;
  exporter: InMemorySpanExporter;
  spans(): ReadableSpan[];
  /** The only finished span (fails the test when there are none or several). */
  only(): ReadableSpan;
  reset(): void;
}

export function captureSpans(): SpanCapture {
  const manager = new AsyncLocalStorageContextManager().enable();
  if (!context.setGlobalContextManager(manager)) manager.disable();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    tracerProvider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    only: () => {
      const spans = exporter.getFinishedSpans();
      if (spans.length !== 1) throw new Error(`expected exactly one finished span, got ${spans.length}: ${spans.map((s) => s.name).join(', ')}`);
      return spans[0]!;
    },
    reset: () => exporter.reset(),
  };
}

/** Parses a JSON content attribute. */
export function jsonAttribute(span: ReadableSpan, name: string): any {
  const value = span.attributes[name];
  if (typeof value !== 'string') throw new Error(`attribute ${name} is ${String(value)}, not a JSON string`);
  return JSON.parse(value);
}

/** Waits until `check` passes or the time is up (for spans that end on a later tick). */
export async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

let gc: (() => void) | undefined;

/**
 * Runs full garbage collections (and lets finalizers run) until `check` passes, at most `rounds` times: for spans
 * that end when their stream is collected. Bounded by rounds, not by time, so machine load cannot fail it.
 */
export async function collectGarbageUntil(check: () => boolean, rounds = 20): Promise<boolean> {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  for (let i = 0; i < rounds; i++) {
    if (check()) return true;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return check();
}

/** Keeps every exported span, also through shutdown() (the in-memory exporter forgets them then). */
export class RecordingExporter implements SpanExporter {
  spans: ReadableSpan[] = [];
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.spans.push(...spans);
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
