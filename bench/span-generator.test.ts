import { describe, expect, it } from 'vitest';
import { ABSENT_WORD, RARE_WORDS } from './lib/genai-content.ts';
import { generateSpans, generateTraces, MODELS, toExportRequest, toSpanRow, type GenSpan } from './span-generator.ts';

const NOW = Date.UTC(2026, 10, 24, 12);
const options = { seed: 7, spans: 5_000, now: NOW, messageScale: 1 };

describe('span generator', { timeout: 60_000 }, () => {
  it('is deterministic: the same seed gives byte-identical export requests, another seed does not', () => {
    const a = [...generateSpans(options)];
    const b = [...generateSpans(options)];
    expect(Buffer.from(toExportRequest(a.slice(0, 512))).equals(Buffer.from(toExportRequest(b.slice(0, 512))))).toBe(true);
    expect(a.map((s) => JSON.stringify(toSpanRow(s, 'p')))).toEqual(b.map((s) => JSON.stringify(toSpanRow(s, 'p'))));
    const c = [...generateSpans({ ...options, seed: 8 })];
    expect(c[0]!.traceId).not.toBe(a[0]!.traceId);
  });

  it('yields exactly the asked number of spans, in traces of 1 to 8 spans with valid parent links', () => {
    const traces = [...generateTraces(options)];
    expect(traces.reduce((n, t) => n + t.length, 0)).toBe(options.spans);
    for (const trace of traces) {
      expect(trace.length).toBeGreaterThanOrEqual(1);
      expect(trace.length).toBeLessThanOrEqual(8);
      const ids = new Set(trace.map((s) => s.spanId));
      expect(trace[0]!.parentSpanId).toBe('');
      for (const span of trace.slice(1)) expect(ids.has(span.parentSpanId)).toBe(true);
      for (const span of trace) expect(span.traceId).toBe(trace[0]!.traceId);
    }
    const all = traces.flat();
    expect(new Set(all.map((s) => s.spanId)).size).toBe(all.length);
  });

  it('spreads start times over the 30 days before `now`, none in the future', () => {
    const spans = [...generateSpans(options)];
    const starts = spans.map((s) => Number(s.startNs / 1_000_000n));
    expect(Math.min(...starts)).toBeGreaterThanOrEqual(NOW - 30 * 86_400_000);
    expect(Math.max(...spans.map((s) => Number(s.endNs / 1_000_000n)))).toBeLessThanOrEqual(NOW);
    const lastDay = starts.filter((t) => t >= NOW - 86_400_000).length / starts.length;
    expect(lastDay).toBeGreaterThan(1 / 30 - 0.01);
    expect(lastDay).toBeLessThan(1 / 30 + 0.01);
  });

  it('looks like GenAI traffic: every model, streaming, errors, cache tokens, unpriced calls, message sizes', () => {
    const spans = [...generateSpans({ ...options, spans: 20_000 })];
    const llm = spans.filter((s) => s.attributes['gen_ai.operation.name']);
    const rows = llm.map((s) => toSpanRow(s, 'p'));
    const share = (predicate: (s: GenSpan) => boolean) => llm.filter(predicate).length / llm.length;
    expect(llm.length / spans.length).toBeGreaterThan(0.4);
    expect(llm.length / spans.length).toBeLessThan(0.8);
    for (const m of MODELS) expect(share((s) => s.attributes['gen_ai.request.model'] === m.model)).toBeGreaterThan(0.02);
    expect(share((s) => s.attributes['gen_ai.response.time_to_first_chunk'] !== undefined)).toBeGreaterThan(0.3);
    expect(share((s) => s.status.code === 2)).toBeGreaterThan(0.01);
    expect(share((s) => s.status.code === 2)).toBeLessThan(0.05);
    expect(share((s) => (s.attributes['gen_ai.usage.cache_read.input_tokens'] as number) > 0)).toBeGreaterThan(0.3);
    expect(rows.filter((r) => r.cost_total === null).length / rows.length).toBeGreaterThan(0.03);
    const text = rows.map((r) => r.input_messages.length + r.output_messages.length + r.system_instructions.length);
    const mean = text.reduce((a, b) => a + b, 0) / text.length;
    expect(mean).toBeGreaterThan(1_000);
    expect(mean).toBeLessThan(8_000);
    expect(Math.max(...text)).toBeGreaterThan(5_000);
    // Users are skewed: the busiest user has far more traces than the median one.
    const perUser = new Map<string, number>();
    for (const s of spans) perUser.set(String(s.attributes['user.id']), (perUser.get(String(s.attributes['user.id'])) ?? 0) + 1);
    expect(perUser.size).toBeGreaterThan(200);
    expect(Math.max(...perUser.values())).toBeGreaterThan(20);
  });

  it('gives full-text search hits for common words, fewer for rare words, none for an absent one', () => {
    const rows = [...generateSpans({ ...options, spans: 20_000 })].map((s) => toSpanRow(s, 'p')).filter((r) => r.operation);
    const hits = (word: string) => rows.filter((r) => r.input_messages.toLowerCase().includes(word)).length / rows.length;
    expect(hits('refund')).toBeGreaterThan(0.3);
    const rare = RARE_WORDS.map(hits);
    expect(Math.max(...rare)).toBeLessThan(0.2);
    expect(rare.filter((h) => h > 0).length).toBeGreaterThan(RARE_WORDS.length / 2);
    expect(hits(ABSENT_WORD)).toBe(0);
  });

  it('rows carry what the collector stores for the span', () => {
    const span = [...generateSpans(options)].find((s) => s.attributes['gen_ai.usage.cache_read.input_tokens'] && s.attributes['parallax.tags'])!;
    const row = toSpanRow(span, 'proj');
    expect(row).toMatchObject({
      project_id: 'proj',
      trace_id: span.traceId,
      kind: 'CLIENT',
      model: span.attributes['gen_ai.request.model'],
      input_tokens: span.attributes['gen_ai.usage.input_tokens'],
      cache_read_tokens: span.attributes['gen_ai.usage.cache_read.input_tokens'],
      user_id: span.attributes['user.id'],
      tags: span.attributes['parallax.tags'],
      service_name: span.resource.serviceName,
    });
    // As the collector stores it: the conversation in its column only, not again among the attributes.
    expect(row.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(row.input_messages).toBe(span.attributes['gen_ai.input.messages']);
    expect(row.start_time).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}$/);
    expect(JSON.parse(row.input_messages)[0].parts[0].type).toBeDefined();
  });
});
