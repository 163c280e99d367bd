// Starting an LLM span off the caller's path, on the provider init() builds (the one whose span ends are already
// finished later, deferred-end.ts). Creating an OpenTelemetry SDK span is most of what tracing costs a call: the
// sampler, two random id strings, two attribute validation passes, the Span object, the span processors' onStart.
// None of it changes what the call does, as long as code running inside the call sees the span's ids: HTTP spans of
// an app's auto-instrumentation must become the LLM span's children, and propagation headers must carry its id.
//
// So on the caller's path plan() only decides what the span will be, as the provider's tracer would: sampled or
// not (the provider's sampler is parent-based always-on, so that is the parent's decision, or yes for a root span),
// under which trace, with which ids. The call runs in a context holding a StandInSpan: non-recording, like the API's
// own NonRecordingSpan, with the planned span context. Its ids are made the first time anyone asks for them (an HTTP
// instrumentation, a propagator), else when the span is started: turning random bytes into hex strings is half of
// what planning costs, and most calls are never asked.
//
// When the call has ended and its span is finished (the deferred-end drain), start() creates the real span through
// the provider's own tracer, with the start time taken on the caller's path, while this file's id generator and
// sampler — installed in that provider by init() — hand the tracer the planned ids and decision. The exported span is
// the one starting it at once would have made: same ids, parent, times, attributes and sampling.
//
// What a user can notice: span processors see onStart() only when the span is finished, right before onEnd(); and
// code inside the call that reads the active span gets the stand-in, so attributes it sets there are dropped.
import {
  isSpanContextValid,
  SamplingDecision,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { AlwaysOnSampler, ParentBasedSampler, RandomIdGenerator, type IdGenerator, type Sampler, type SamplingResult } from '@opentelemetry/sdk-trace';

const SAMPLED: SamplingResult = Object.freeze({ decision: SamplingDecision.RECORD_AND_SAMPLED });

/** What plan() decided on the caller's path. */
export class PlannedSpan {
  /** Whether the span is recorded and exported; when not, nothing is started later (as the tracer returns a non-recording span). */
  readonly sampled: boolean;
  /** The parent's span context when the parent context holds a valid one: the trace id and trace state come from it. */
  readonly parent: SpanContext | undefined;
  #ids: IdGenerator;
  #spanContext: SpanContext | undefined;

  constructor(parent: SpanContext | undefined, sampled: boolean, ids: IdGenerator) {
    this.parent = parent;
    this.sampled = sampled;
    this.#ids = ids;
  }

  /** The span context the real span will have, its ids made on first use; the same object every time. */
  get spanContext(): SpanContext {
    return (this.#spanContext ??= {
      traceId: this.parent ? this.parent.traceId : this.#ids.generateTraceId(),
      spanId: this.#ids.generateSpanId(),
      traceFlags: this.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
      traceState: this.parent?.traceState,
    });
  }
}

/** The active span while the call runs: a non-recording span with the planned span's context. */
export class StandInSpan implements Span {
  readonly #planned: PlannedSpan;

  constructor(planned: PlannedSpan) {
    this.#planned = planned;
  }

  spanContext(): SpanContext {
    return this.#planned.spanContext;
  }
  setAttribute(_key: string, _value: AttributeValue): this {
    return this;
  }
  setAttributes(_attributes: Attributes): this {
    return this;
  }
  addEvent(_name: string, _attributesOrStartTime?: Attributes | TimeInput, _startTime?: TimeInput): this {
    return this;
  }
  addLink(_link: Link): this {
    return this;
  }
  addLinks(_links: Link[]): this {
    return this;
  }
  setStatus(_status: SpanStatus): this {
    return this;
  }
  updateName(_name: string): this {
    return this;
  }
  end(_endTime?: TimeInput): void {}
  isRecording(): boolean {
    return false;
  }
  recordException(_exception: Exception, _time?: TimeInput): void {}
}

export class SpanStarts {
  /** For the provider init() builds: random ids, except the planned ones while start() runs. */
  readonly idGenerator: IdGenerator;
  /** For the provider init() builds: parent-based always-on, except for the planned decision while start() runs. */
  readonly sampler: Sampler;
  #random = new RandomIdGenerator();
  /** Set while start() runs. The tracer asks for the ids, then the decision, then builds the span (and calls onStart). */
  #planned: PlannedSpan | undefined;

  constructor() {
    const random = this.#random;
    const parentBased = new ParentBasedSampler({ root: new AlwaysOnSampler() });
    this.idGenerator = {
      generateTraceId: () => {
        const planned = this.#planned;
        return planned && !planned.parent ? planned.spanContext.traceId : random.generateTraceId();
      },
      generateSpanId: () => this.#planned?.spanContext.spanId ?? random.generateSpanId(),
    };
    this.sampler = {
      shouldSample: (context, traceId, spanName, spanKind, attributes, links) => {
        if (!this.#planned) return parentBased.shouldSample(context, traceId, spanName, spanKind, attributes, links);
        // The last thing the tracer asks for: a span started from a span processor's onStart() gets its own.
        this.#planned = undefined;
        return SAMPLED;
      },
      toString: () => parentBased.toString(),
    };
  }

  /**
   * Decides the span as the provider's tracer would, without creating it. Undefined when tracing is suppressed in
   * `parent` (the tracer would return an invalid non-recording span).
   */
  plan(parent: Context): PlannedSpan | undefined {
    if (isTracingSuppressed(parent)) return undefined;
    const parentSpanContext = trace.getSpanContext(parent);
    const valid = parentSpanContext !== undefined && isSpanContextValid(parentSpanContext) ? parentSpanContext : undefined;
    // Parent-based always-on, as the provider's sampler: a root span is sampled, a child follows its parent.
    const sampled = valid === undefined || (valid.traceFlags & TraceFlags.SAMPLED) !== 0;
    return new PlannedSpan(valid, sampled, this.#random);
  }

  /** Creates a sampled planned span through `tracer`, a tracer of the provider these ids and sampler are installed in. */
  start(tracer: Tracer, planned: PlannedSpan, name: string, kind: SpanKind, attributes: Attributes, startTime: number, parent: Context): Span {
    this.#planned = planned;
    try {
      return tracer.startSpan(name, { kind, attributes, startTime }, parent);
    } finally {
      this.#planned = undefined;
    }
  }
}
