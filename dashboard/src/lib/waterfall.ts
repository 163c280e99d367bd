import type { SpanDetail } from '#lib/api-types.ts';

export interface WaterfallRow {
  span: SpanDetail;
  depth: number;
  /** Position of the bar in the trace's time window, 0–100. */
  offsetPct: number;
  widthPct: number;
}

export interface Waterfall {
  rows: WaterfallRow[];
  startTime: string;
  durationMs: number;
}

/**
 * Spans in tree order (parents before children, siblings by start time), each placed on the trace's timeline.
 * A span whose parent never arrived is shown as a root rather than dropped.
 */
export function layoutWaterfall(spans: SpanDetail[]): Waterfall {
  if (spans.length === 0) return { rows: [], startTime: '', durationMs: 0 };

  // Nanosecond strings exceed Number's exact range; BigInt keeps sibling order and offsets exact.
  const start = (s: SpanDetail) => BigInt(s.startTimeUnixNano);
  const end = (s: SpanDetail) => BigInt(s.endTimeUnixNano);
  const traceStart = spans.reduce((min, s) => (start(s) < min ? start(s) : min), start(spans[0]!));
  const traceEnd = spans.reduce((max, s) => (end(s) > max ? end(s) : max), end(spans[0]!));
  const totalNs = traceEnd > traceStart ? traceEnd - traceStart : 1n;

  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string | null, SpanDetail[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    const siblings = children.get(parent) ?? [];
    siblings.push(span);
    children.set(parent, siblings);
  }
  for (const siblings of children.values()) {
    siblings.sort((a, b) => (start(a) < start(b) ? -1 : start(a) > start(b) ? 1 : 0));
  }

  const pct = (ns: bigint) => Number((ns * 1_000_000n) / totalNs) / 10_000;
  const rows: WaterfallRow[] = [];
  const visit = (span: SpanDetail, depth: number, seen: Set<string>) => {
    if (seen.has(span.spanId)) return; // a parent cycle in bad data must not hang the page
    seen.add(span.spanId);
    rows.push({ span, depth, offsetPct: pct(start(span) - traceStart), widthPct: pct(end(span) - start(span)) });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1, seen);
  };
  const seen = new Set<string>();
  for (const root of children.get(null) ?? []) visit(root, 0, seen);
  for (const span of spans) if (!seen.has(span.spanId)) visit(span, 0, seen);

  const first = spans.find((s) => start(s) === traceStart)!;
  return { rows, startTime: first.startTime, durationMs: Number(totalNs) / 1e6 };
}
