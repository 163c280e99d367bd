import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { decodeJson, MalformedPayloadError, type DecodedRequest } from './decode.ts';
import { decodeProtobuf } from './decode-protobuf.ts';
import { ExportTraceServiceRequest } from './proto.ts';

/**
 * What the collector read from protobuf before this decoder: protobufjs's message object as plain
 * JSON (64-bit integers as decimal strings), which is OTLP/JSON apart from the ids' encoding, through
 * the JSON decoder.
 */
function protobufjsDecode(body: Uint8Array): DecodedRequest {
  const object = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, bytes: String }) as {
    resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[];
  };
  for (const resource of object.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        for (const id of ['traceId', 'spanId', 'parentSpanId']) {
          if (typeof span[id] === 'string') span[id] = Buffer.from(span[id], 'base64').toString('hex');
        }
      }
    }
  }
  return decodeJson(JSON.stringify(object));
}

/** A request body built from OTLP's proto3 JSON mapping, encoded by protobufjs. */
function encode(request: object): Uint8Array {
  return ExportTraceServiceRequest.encode(ExportTraceServiceRequest.fromObject(request)).finish();
}

const TRACE = Buffer.from('4bf92f3577b34da6a3ce929d0e0e4736', 'hex').toString('base64');
const SPAN = Buffer.from('00f067aa0ba902b7', 'hex').toString('base64');
const PARENT = Buffer.from('53995c3f42cd8ad8', 'hex').toString('base64');

function oneSpan(span: Record<string, unknown>, resourceSpan: Record<string, unknown> = {}) {
  return { resourceSpans: [{ scopeSpans: [{ scope: { name: 'hand-built' }, spans: [{ traceId: TRACE, spanId: SPAN, ...span }] }], ...resourceSpan }] };
}

describe('decodeProtobuf', () => {
  it('decodes what the official OTLP exporter sends, as protobufjs did', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout', 'deployment.environment.name': 'production', 'service.instance.count': 3 }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('@parallax/sdk', '0.1.0');
    const messages = JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Grüße, 世界 — what is 2+2? 🙂 "quoted"\n' }] }]);
    const root = tracer.startSpan('invoke_agent support', { kind: SpanKind.INTERNAL, attributes: { 'session.id': 'sess-1' } });
    const call = tracer.startSpan(
      'chat gpt-4o',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.request.temperature': 0.7,
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.request.stream': true,
          'gen_ai.response.finish_reasons': ['stop', 'length'],
          'gen_ai.input.messages': messages,
          'parallax.tags': ['beta', 'web'],
          'empty.text': '',
          'negative.count': -42,
        },
        links: [{ context: root.spanContext(), attributes: { 'link.kind': 'parent-ish' } }],
      },
      trace.setSpan(context.active(), root),
    );
    call.addEvent('gen_ai.content.prompt', { 'gen_ai.prompt': 'hi', attempt: 2 });
    call.setStatus({ code: SpanStatusCode.ERROR, message: 'rate limited' });
    call.end();
    root.end();
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const body = ProtobufTraceSerializer.serializeRequest(spans)!;

    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(protobufjsDecode(body));
    expect(decoded.rejected).toEqual({ count: 0, message: '' });
    const [scope] = decoded.scopes;
    expect(scope!.scopeName).toBe('@parallax/sdk');
    expect(scope!.resource).toMatchObject({ 'service.name': 'checkout', 'service.instance.count': 3 });
    const stored = scope!.spans.find((s) => s.name === 'chat gpt-4o')!;
    const sent = spans.find((s) => s.name === 'chat gpt-4o')!;
    expect(stored.traceId).toBe(sent.spanContext().traceId);
    expect(stored.spanId).toBe(sent.spanContext().spanId);
    expect(stored.parentSpanId).toBe(sent.parentSpanContext!.spanId);
    expect(stored.kind).toBe(3); // OTLP numbers kinds from 1: CLIENT is 3
    expect(stored.startTimeUnixNano).toBe(BigInt(sent.startTime[0]) * 1_000_000_000n + BigInt(sent.startTime[1]));
    expect(stored.attributes).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.request.temperature': 0.7,
      'gen_ai.usage.input_tokens': 1200,
      'gen_ai.request.stream': true,
      'gen_ai.response.finish_reasons': ['stop', 'length'],
      'gen_ai.input.messages': messages,
      'parallax.tags': ['beta', 'web'],
      'empty.text': '',
      'negative.count': -42,
    });
    expect(stored.events).toEqual([{ name: 'gen_ai.content.prompt', timeUnixNano: expect.any(BigInt), attributes: { 'gen_ai.prompt': 'hi', attempt: 2 } }]);
    expect(stored.status).toEqual({ code: 2, message: 'rate limited' });
  });

  it('keeps 64-bit timestamps and integers exact beyond 2^53', () => {
    const body = encode(
      oneSpan({
        startTimeUnixNano: '1764000000123456789',
        endTimeUnixNano: '18446744073709551615',
        attributes: [
          { key: 'big', value: { intValue: '9007199254740993' } },
          { key: 'most.negative', value: { intValue: '-9223372036854775808' } },
          { key: 'largest.safe', value: { intValue: '9007199254740991' } },
          { key: 'smallest.safe', value: { intValue: '-9007199254740991' } },
          { key: 'just.unsafe', value: { intValue: '-9007199254740992' } },
        ],
        events: [{ name: 'late', timeUnixNano: '9223372036854775807' }],
      }),
    );
    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(protobufjsDecode(body));
    const span = decoded.scopes[0]!.spans[0]!;
    expect(span.startTimeUnixNano).toBe(1764000000123456789n);
    expect(span.endTimeUnixNano).toBe(18446744073709551615n);
    expect(span.events[0]!.timeUnixNano).toBe(9223372036854775807n);
    expect(span.attributes).toEqual({
      big: '9007199254740993',
      'most.negative': '-9223372036854775808',
      'largest.safe': 9007199254740991,
      'smallest.safe': -9007199254740991,
      'just.unsafe': '-9007199254740992',
    });
  });

  it('reads nested arrays and kvlists, bytes values, empty values and events, and skips links and dropped counts', () => {
    const body = encode(
      oneSpan(
        {
          parentSpanId: PARENT,
          name: 'tool run',
          kind: 1,
          startTimeUnixNano: '1764000000000000000',
          endTimeUnixNano: '1764000000500000000',
          attributes: [
            {
              key: 'request',
              value: {
                kvlistValue: {
                  values: [
                    { key: 'messages', value: { arrayValue: { values: [{ stringValue: 'a' }, { kvlistValue: { values: [{ key: 'n', value: { intValue: '1' } }] } }, { arrayValue: {} }] } } },
                    { key: 'flag', value: { boolValue: false } },
                    { key: 'ratio', value: { doubleValue: 0.25 } },
                  ],
                },
              },
            },
            { key: 'blob', value: { bytesValue: Buffer.from([0, 1, 2, 250]).toString('base64') } },
            { key: 'no.value' },
            { key: 'empty.value', value: {} },
            { key: 'empty.list', value: { kvlistValue: {} } },
          ],
          droppedAttributesCount: 3,
          events: [
            { timeUnixNano: '1764000000100000000', name: 'exception', attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }], droppedAttributesCount: 1 },
            {},
          ],
          droppedEventsCount: 2,
          links: [{ traceId: TRACE, spanId: PARENT, traceState: 'k=v', attributes: [{ key: 'x', value: { stringValue: 'y' } }], flags: 1 }],
          droppedLinksCount: 5,
          traceState: 'vendor=1',
          flags: TraceFlags.SAMPLED,
          status: { code: 1 },
        },
        { resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 1 }, schemaUrl: 'https://x' },
      ),
    );
    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(protobufjsDecode(body));
    const span = decoded.scopes[0]!.spans[0]!;
    expect(span.parentSpanId).toBe('53995c3f42cd8ad8');
    expect(span.attributes).toEqual({
      request: { messages: ['a', { n: 1 }, []], flag: false, ratio: 0.25 },
      blob: Buffer.from([0, 1, 2, 250]).toString('base64'),
      'no.value': null,
      'empty.value': null,
      'empty.list': {},
    });
    expect(span.events).toEqual([
      { name: 'exception', timeUnixNano: 1764000000100000000n, attributes: { 'exception.message': 'boom' } },
      { name: '', timeUnixNano: 0n, attributes: {} },
    ]);
    expect(span.status).toEqual({ code: 1, message: '' });
    expect(decoded.scopes[0]!.resource).toEqual({ 'service.name': 'svc' });
  });

  it('fills what a span leaves out as protobufjs did: empty name, no parent, end = start, status unset', () => {
    const body = encode(oneSpan({ startTimeUnixNano: '1764000000000000000' }));
    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(protobufjsDecode(body));
    expect(decoded.scopes[0]!.spans[0]).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      parentSpanId: '',
      name: '',
      kind: 0,
      startTimeUnixNano: 1764000000000000000n,
      endTimeUnixNano: 1764000000000000000n,
      attributes: {},
      events: [],
      status: { code: 0, message: '' },
    });
  });

  it('applies a resource that follows its scope spans on the wire to all of them', () => {
    const scope = encode(oneSpan({ name: 'late resource', startTimeUnixNano: '1764000000000000000' }));
    const resource = encode({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'after' } }] } }] });
    // One ResourceSpans: the scope spans' fields, then the resource's.
    const body = field(1, Buffer.concat([firstFieldContent(scope), firstFieldContent(resource)]));
    const decoded = decodeProtobuf(body);
    expect(decoded).toEqual(protobufjsDecode(body));
    expect(decoded.scopes[0]!.resource).toEqual({ 'service.name': 'after' });
    expect(decoded.scopes[0]!.spans[0]!.name).toBe('late resource');
  });

  it('refuses spans without valid ids or start one by one, naming each as sent', () => {
    const body = encode({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: Buffer.alloc(16).toString('base64'), spanId: SPAN, startTimeUnixNano: '1' },
                { traceId: TRACE, spanId: Buffer.from('abcd', 'hex').toString('base64'), startTimeUnixNano: '1' },
                { traceId: TRACE, spanId: SPAN },
                { traceId: TRACE, spanId: SPAN, name: 'kept', startTimeUnixNano: '1' },
              ],
            },
          ],
        },
      ],
    });
    const decoded = decodeProtobuf(body);
    expect(decoded.scopes[0]!.spans.map((s) => s.name)).toEqual(['kept']);
    expect(decoded.rejected).toEqual({
      count: 3,
      message: 'resourceSpans[0].scopeSpans[0].spans[0]: traceId must be 16 non-zero bytes, got "AAAAAAAAAAAAAAAAAAAAAA=="',
    });
  });

  it('refuses what protobufjs refuses: truncated fields, lengths past the end, invalid UTF-8, too deep nesting', () => {
    const valid = encode(oneSpan({ name: 'x', startTimeUnixNano: '1764000000000000000' }));
    const invalidUtf8 = Buffer.from(encode(oneSpan({ name: 'zz-name', startTimeUnixNano: '1764000000000000000' })));
    invalidUtf8[invalidUtf8.indexOf(Buffer.from('zz-name'))] = 0xff;
    // An attribute whose value is an array in an array … 120 deep (protobufjs will not encode that).
    let deep = field(1, Buffer.from('bottom'));
    for (let i = 0; i < 120; i++) deep = field(5, field(1, deep));
    const tooDeep = requestOf(Buffer.concat([field(1, Buffer.from('deep')), field(2, deep)]));
    for (const body of [valid.subarray(0, valid.length - 3), new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]), invalidUtf8, tooDeep, new Uint8Array([0x0f])]) {
      expect(() => ExportTraceServiceRequest.decode(body)).toThrow();
      expect(() => decodeProtobuf(body)).toThrow(MalformedPayloadError);
      expect(() => decodeProtobuf(body)).toThrow(/^invalid OTLP protobuf \(ExportTraceServiceRequest\): /);
    }
  });

  it('keeps the last member of an AnyValue that sets several, as the protobuf spec says', () => {
    const value = Buffer.concat([field(1, Buffer.from('first')), Buffer.from([0x18, 0x07])]); // string_value, then int_value 7
    const body = requestOf(Buffer.concat([field(1, Buffer.from('k')), field(2, value)]));
    expect(decodeProtobuf(body).scopes[0]!.spans[0]!.attributes).toEqual({ k: 7 });
  });

  it('skips fields it does not know, of every wire type', () => {
    const known = encode(oneSpan({ name: 'x', startTimeUnixNano: '1764000000000000000' }));
    // Field 99 as a varint, a fixed64, a length-delimited and a fixed32, then a group (field 98).
    const unknown = Buffer.from([0x98, 0x06, 0x2a, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9a, 0x06, 2, 0x68, 0x69, 0x9d, 0x06, 1, 2, 3, 4, 0x93, 0x06, 0x08, 0x01, 0x94, 0x06]);
    const body = Buffer.concat([unknown, known]);
    expect(decodeProtobuf(body)).toEqual(decodeProtobuf(known));
    expect(decodeProtobuf(body)).toEqual(protobufjsDecode(body));
  });
});

/** A length-delimited field (wire type 2), as protobuf writes it. */
function field(number: number, content: Uint8Array): Buffer {
  return Buffer.concat([varint((number << 3) | 2), varint(content.length), content]);
}

/** A request of one span (valid ids and start) with one attribute, the KeyValue's bytes as given. */
function requestOf(keyValue: Buffer): Buffer {
  const start = Buffer.alloc(8);
  start.writeBigUInt64LE(1764000000000000000n);
  const span = Buffer.concat([field(1, Buffer.from(TRACE, 'base64')), field(2, Buffer.from(SPAN, 'base64')), Buffer.from([(7 << 3) | 1]), start, field(9, keyValue)]);
  return field(1, field(2, field(2, span)));
}

/** The content of a message's first field, when that field is length-delimited. */
function firstFieldContent(message: Uint8Array): Buffer {
  let offset = 1;
  while (message[offset]! >= 0x80) offset++;
  return Buffer.from(message.subarray(offset + 1));
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  bytes.push(value);
  return Buffer.from(bytes);
}
