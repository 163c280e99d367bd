// The experiment runner's model calls are traced by the SDK like any app's. Their spans go straight into
// this collector's ingest path (toSpanRows + the batcher) in-process: no HTTP request to itself and no
// plaintext API key, yet stored, priced and queried exactly as production spans are.
import type { HrTime } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { createHash } from 'node:crypto';
import type { IngestBatcher } from '../ingest/batcher.ts';
import { toSpanRows } from '../ingest/normalize.ts';
import type { Attributes, AttributeValue, OtlpScopeSpans, OtlpSpan } from '../otlp/decode.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';

/** Span attribute naming the experiment a call belongs to (production traffic never has it). */
export const EXPERIMENT_ATTRIBUTE = 'parallax.experiment.id';

/** The service the runner's calls are stored under: production traffic is what the other services sent. */
export const EXPERIMENT_SERVICE_NAME = 'parallax-experiments';

/** The tag every experiment span carries, so `?tag=experiment:<id>` finds the experiment's traces. */
export function experimentTag(experimentId: string): string {
  return `experiment:${experimentId}`;
}

export interface ExperimentSpanTarget {
  batcher: IngestBatcher;
  priceOverrides: PriceOverrideStore;
  projectId: string;
  experimentId: string;
}

export class IngestSpanExporter implements SpanExporter {
  readonly #target: ExperimentSpanTarget;
  readonly #pending = new Set<Promise<void>>();

  constructor(target: ExperimentSpanTarget) {
    this.#target = target;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    const work = this.#store(spans);
    this.#pending.add(work);
    work.then(
      () => resultCallback({ code: ExportResultCode.SUCCESS }),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
  }

  async forceFlush(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  async #store(spans: ReadableSpan[]): Promise<void> {
    if (spans.length === 0) return;
    const { projectId, experimentId, batcher, priceOverrides } = this.#target;
    const scopes = toScopeSpans(spans, experimentId);
    const overrides = await priceOverrides.forProject(projectId);
    // Span ids are unique, so they name the export: the batcher stores a repeated export once.
    const token = createHash('sha256')
      .update(projectId)
      .update('\0')
      .update(spans.map((s) => s.spanContext().spanId).join(','))
      .digest('hex')
      .slice(0, 32);
    await batcher.submit(token, projectId, toSpanRows(projectId, scopes, overrides));
  }
}

/** ReadableSpans in the decoded-OTLP shape the ingest path takes, each tagged with the experiment. */
export function toScopeSpans(spans: readonly ReadableSpan[], experimentId: string): OtlpScopeSpans[] {
  const groups = new Map<string, OtlpScopeSpans>();
  for (const span of spans) {
    const resource = toAttributes(span.resource.attributes);
    const scopeName = span.instrumentationScope.name;
    const key = `${scopeName}\0${JSON.stringify(resource)}`;
    let group = groups.get(key);
    if (!group) {
      group = { resource, scopeName, spans: [] };
      groups.set(key, group);
    }
    group.spans.push(toOtlpSpan(span, experimentId));
  }
  return [...groups.values()];
}

function toOtlpSpan(span: ReadableSpan, experimentId: string): OtlpSpan {
  const context = span.spanContext();
  const attributes = toAttributes(span.attributes);
  const tags = tagsOf(attributes['parallax.tags']);
  attributes['parallax.tags'] = [...new Set([...tags, experimentTag(experimentId)])];
  attributes[EXPERIMENT_ATTRIBUTE] = experimentId;
  attributes['parallax.metadata.experiment_id'] = experimentId;
  const start = nanos(span.startTime);
  const end = nanos(span.endTime);
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? '',
    name: span.name,
    // The API's SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0.
    kind: span.kind + 1,
    startTimeUnixNano: start,
    endTimeUnixNano: end < start ? start : end,
    attributes,
    events: span.events.map((event) => ({ name: event.name, timeUnixNano: nanos(event.time), attributes: toAttributes(event.attributes ?? {}) })),
    status: { code: span.status.code, message: span.status.message ?? '' },
  };
}

function nanos(time: HrTime): bigint {
  return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]);
}

function toAttributes(attributes: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    out[key] = toValue(value);
  }
  return out;
}

function toValue(value: unknown): AttributeValue {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) return value.map(toValue);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

function tagsOf(value: AttributeValue | undefined): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string' && value) return value.split(',').map((t) => t.trim()).filter(Boolean);
  return [];
}
