import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import { generateKey } from './projects.ts';
import { getTrace, getTraces } from './traces.ts';

let collector: TestCollector;
const ours: string[] = [];
let theirs = '';

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
});
