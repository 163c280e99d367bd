import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { generateKey } from './projects.ts';
import { getTrace, getTraces } from './traces.ts';

let collector: TestCollector;
const ours: string[] = [];
let theirs = '';
/** A trace with spans in three hours, exported in two batches: each hour's spans are in rows and parts of their own. */
let longRunning = '';

/** One trace: a root span and `calls` chat calls under it; returns its id. */
function emitTrace(tracer: Tracer, calls: number): string {
  const start = Date.now() - 60_000;
  const root = tracer.startSpan('answer', { kind: SpanKind.SERVER, startTime: start });
  const parent = trace.setSpan(context.active(), root);
  for (let i = 0; i < calls; i++) {
    const attributes = chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5, input: `question ${i}`, output: `answer ${i}` });
    tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, startTime: start + 10 + i, attributes }, parent).end(start + 20 + i);
  }
  root.end(start + 100);
  return root.spanContext().traceId;
}

beforeAll(async () => {
  collector = await startTestCollector();
  const other = await collector.projects.createProject('Other team');
  const otherKey = generateKey();
  await collector.projects.addKey(other.id, otherKey, { name: 'other', scope: 'full' });
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    ours.push(emitTrace(tracer, 1), emitTrace(tracer, 3));
  });
  await exportThroughOtlp(collector.url, otherKey, (tracer) => {
    theirs = emitTrace(tracer, 2);
  });
  // An agent run over three hours: it starts early in one, plans at its end, and calls a model in each of
  // the next two. The calls are exported after the rest, as a long run's spans are.
  const hour = 3_600_000;
  const thisHour = Math.floor(Date.now() / hour) * hour;
  let rootContext = context.active();
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    const root = tracer.startSpan('long agent run', { kind: SpanKind.SERVER, startTime: thisHour - 2 * hour + 60_000 });
    rootContext = trace.setSpan(context.active(), root);
    tracer.startSpan('plan', { startTime: thisHour - hour - 30_000 }, rootContext).end(thisHour - hour - 20_000);
    longRunning = root.spanContext().traceId;
    root.end(Date.now());
  });
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    const attributes = chatAttributes({ model: 'gpt-4o-mini', inputTokens: 10, outputTokens: 5 });
    for (const start of [thisHour - 2 * hour + 120_000, thisHour - hour + 10_000, thisHour]) {
      tracer.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, startTime: start, attributes }, rootContext).end(start + 1_000);
    }
  });
});
afterAll(async () => {
  await collector?.close();
});

describe('getTraces', () => {
  it('reads several traces in one query, each exactly as getTrace reads it, and nothing of another project', async () => {
    const unknown = `${'0'.repeat(31)}1`;
    const traces = await getTraces(collector.storage, 'default', [ours[1]!, unknown, theirs, ours[0]!]);
    expect([...traces.keys()]).toEqual([ours[1], unknown, theirs, ours[0]]);
    expect(traces.get(unknown)).toEqual([]);
    expect(traces.get(theirs)).toEqual([]);
    expect(traces.get(ours[0]!)).toHaveLength(2);
    expect(traces.get(ours[1]!)).toHaveLength(4);
    for (const id of ours) expect(traces.get(id)).toEqual(await getTrace(collector.storage, 'default', id));
  });

  it('reads every span of a trace whose spans lie in several hours and arrived in several exports', async () => {
    const spans = await getTrace(collector.storage, 'default', longRunning);
    expect(spans.map((s) => s.name)).toEqual(['long agent run', 'chat gpt-4o-mini', 'plan', 'chat gpt-4o-mini', 'chat gpt-4o-mini']);
    const both = await getTraces(collector.storage, 'default', [ours[0]!, longRunning]);
    expect(both.get(longRunning)).toEqual(spans);
  });
});
