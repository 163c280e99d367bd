// OTLP/HTTP protobuf (ExportTraceServiceRequest, field numbers as in opentelemetry-proto and
// proto.ts) decoded straight into the spans the collector keeps. Going through protobufjs message
// objects and toObject() cost more than everything else ingest does per span; this reads each field
// once, in place. Fields the collector does not keep (links, trace state, dropped counts, schema
// URLs, scope attributes) are skipped unread, as unknown fields are.
import {
  MalformedPayloadError,
  rejectSpan,
  spanProblem,
  type Attributes,
  type AttributeValue,
  type DecodedRequest,
  type OtlpScopeSpans,
  type OtlpSpan,
} from './decode.ts';
import { WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT, WireFormatError, WireReader, MAX_DEPTH } from './wire-reader.ts';

export function decodeProtobuf(body: Uint8Array): DecodedRequest {
  const reader = new WireReader(body);
  const decoded: DecodedRequest = { scopes: [], rejected: { count: 0, message: '' } };
  try {
    let resourceIndex = 0;
    while (reader.pos < reader.limit) {
      const tag = reader.tag();
      if (tag === ((1 << 3) | WIRE_LENGTH_DELIMITED)) readResourceSpans(reader, reader.delimitedEnd(), resourceIndex++, decoded);
      else reader.skip(tag & 7, tag >>> 3, 0);
    }
  } catch (error) {
    if (error instanceof WireFormatError) {
      throw new MalformedPayloadError(`invalid OTLP protobuf (ExportTraceServiceRequest): ${error.message}`);
    }
    throw error;
  }
  return decoded;
}

/** The tag of field `number` sent with `wireType`; a field sent with another wire type is skipped, as protobufjs skips it. */
const field = (number: number, wireType: number) => (number << 3) | wireType;

const LENGTH_1 = field(1, WIRE_LENGTH_DELIMITED);
const LENGTH_2 = field(2, WIRE_LENGTH_DELIMITED);
const LENGTH_3 = field(3, WIRE_LENGTH_DELIMITED);

function readResourceSpans(reader: WireReader, end: number, index: number, decoded: DecodedRequest): void {
  const outer = reader.limit;
  reader.limit = end;
  // The resource may follow its scope spans on the wire; it applies to all of them.
  const scopes: { start: number; end: number }[] = [];
  let resource: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) resource = readResource(reader, reader.delimitedEnd(), resource);
    else if (tag === LENGTH_2) {
      const scopeEnd = reader.delimitedEnd();
      scopes.push({ start: reader.pos, end: scopeEnd });
      reader.pos = scopeEnd;
    } else reader.skip(tag & 7, tag >>> 3, 1);
  }
  const after = reader.pos;
  for (let s = 0; s < scopes.length; s++) {
    reader.pos = scopes[s]!.start;
    decoded.scopes.push(readScopeSpans(reader, scopes[s]!.end, resource, `resourceSpans[${index}].scopeSpans[${s}]`, decoded));
  }
  reader.pos = after;
  reader.limit = outer;
}

/** A repeated occurrence of a message field merges into the first, as protobuf (and protobufjs) merge. */
function readResource(reader: WireReader, end: number, into: Attributes): Attributes {
  const outer = reader.limit;
  reader.limit = end;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) readKeyValue(reader, reader.delimitedEnd(), into, 3);
    else reader.skip(tag & 7, tag >>> 3, 2);
  }
  reader.limit = outer;
  return into;
}

function readScopeSpans(reader: WireReader, end: number, resource: Attributes, where: string, decoded: DecodedRequest): OtlpScopeSpans {
  const outer = reader.limit;
  reader.limit = end;
  const sentIds = new SentIds(reader);
  const scope: OtlpScopeSpans = { resource, scopeName: '', spans: [] };
  let index = 0;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) scope.scopeName = readScopeName(reader, reader.delimitedEnd(), scope.scopeName);
    else if (tag === LENGTH_2) {
      const span = readSpan(reader, reader.delimitedEnd(), sentIds);
      const problem = spanProblem(span, sentIds);
      if (problem) rejectSpan(decoded.rejected, `${where}.spans[${index}]: ${problem}`);
      else scope.spans.push(span);
      index++;
    } else reader.skip(tag & 7, tag >>> 3, 2);
  }
  reader.limit = outer;
  return scope;
}

function readScopeName(reader: WireReader, end: number, name: string): string {
  const outer = reader.limit;
  reader.limit = end;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) name = reader.string();
    else reader.skip(tag & 7, tag >>> 3, 3);
  }
  reader.limit = outer;
  return name;
}

/** Where the current span's ids are in the body: a refusal shows them as sent (base64, as in OTLP/JSON). */
class SentIds {
  readonly #reader: WireReader;
  traceStart = 0;
  traceEnd = 0;
  spanStart = 0;
  spanEnd = 0;

  constructor(reader: WireReader) {
    this.#reader = reader;
  }

  traceId(): string {
    return base64(this.#reader, this.traceStart, this.traceEnd);
  }

  spanId(): string {
    return base64(this.#reader, this.spanStart, this.spanEnd);
  }
}

function readSpan(reader: WireReader, end: number, sentIds: SentIds): OtlpSpan {
  const outer = reader.limit;
  reader.limit = end;
  const span: OtlpSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: {},
    events: [],
    status: { code: 0, message: '' },
  };
  sentIds.traceStart = sentIds.traceEnd = sentIds.spanStart = sentIds.spanEnd = 0;
  while (reader.pos < end) {
    const tag = reader.tag();
    switch (tag) {
      case LENGTH_1:
        sentIds.traceEnd = reader.delimitedEnd();
        sentIds.traceStart = reader.pos;
        span.traceId = hex(reader, sentIds.traceEnd);
        break;
      case LENGTH_2:
        sentIds.spanEnd = reader.delimitedEnd();
        sentIds.spanStart = reader.pos;
        span.spanId = hex(reader, sentIds.spanEnd);
        break;
      case field(4, WIRE_LENGTH_DELIMITED):
        span.parentSpanId = hex(reader, reader.delimitedEnd());
        break;
      case field(5, WIRE_LENGTH_DELIMITED):
        span.name = reader.string();
        break;
      case field(6, WIRE_VARINT):
        span.kind = reader.uint32() | 0;
        break;
      case field(7, WIRE_FIXED64):
        span.startTimeUnixNano = reader.fixed64();
        break;
      case field(8, WIRE_FIXED64):
        span.endTimeUnixNano = reader.fixed64();
        break;
      case field(9, WIRE_LENGTH_DELIMITED):
        readKeyValue(reader, reader.delimitedEnd(), span.attributes, 4);
        break;
      case field(11, WIRE_LENGTH_DELIMITED):
        span.events.push(readEvent(reader, reader.delimitedEnd()));
        break;
      case field(15, WIRE_LENGTH_DELIMITED):
        readStatus(reader, reader.delimitedEnd(), span.status);
        break;
      default:
        reader.skip(tag & 7, tag >>> 3, 3);
    }
  }
  reader.limit = outer;
  if (span.endTimeUnixNano < span.startTimeUnixNano) span.endTimeUnixNano = span.startTimeUnixNano;
  return span;
}

function readEvent(reader: WireReader, end: number): OtlpSpan['events'][number] {
  const outer = reader.limit;
  reader.limit = end;
  const event: OtlpSpan['events'][number] = { name: '', timeUnixNano: 0n, attributes: {} };
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === field(1, WIRE_FIXED64)) event.timeUnixNano = reader.fixed64();
    else if (tag === LENGTH_2) event.name = reader.string();
    else if (tag === LENGTH_3) readKeyValue(reader, reader.delimitedEnd(), event.attributes, 5);
    else reader.skip(tag & 7, tag >>> 3, 4);
  }
  reader.limit = outer;
  return event;
}

function readStatus(reader: WireReader, end: number, status: OtlpSpan['status']): void {
  const outer = reader.limit;
  reader.limit = end;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_2) status.message = reader.string();
    else if (tag === field(3, WIRE_VARINT)) status.code = reader.uint32() | 0;
    else reader.skip(tag & 7, tag >>> 3, 4);
  }
  reader.limit = outer;
}

/** One KeyValue into `into`; a later value for the same key replaces the earlier one. */
function readKeyValue(reader: WireReader, end: number, into: Attributes, depth: number): void {
  if (depth > MAX_DEPTH) throw new WireFormatError('max depth exceeded');
  const outer = reader.limit;
  reader.limit = end;
  let key = '';
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) key = reader.key();
    else if (tag === LENGTH_2) value = readAnyValue(reader, reader.delimitedEnd(), depth + 1);
    else reader.skip(tag & 7, tag >>> 3, depth + 1);
  }
  reader.limit = outer;
  into[key] = value;
}

/** AnyValue's oneof: should a sender write several members, the last one counts, as protobuf says. */
function readAnyValue(reader: WireReader, end: number, depth: number): AttributeValue {
  if (depth > MAX_DEPTH) throw new WireFormatError('max depth exceeded');
  const outer = reader.limit;
  reader.limit = end;
  let value: AttributeValue = null;
  while (reader.pos < end) {
    const tag = reader.tag();
    switch (tag) {
      case field(1, WIRE_LENGTH_DELIMITED):
        value = reader.string();
        break;
      case field(2, WIRE_VARINT):
        value = reader.bool();
        break;
      case field(3, WIRE_VARINT):
        value = reader.int64();
        break;
      case field(4, WIRE_FIXED64):
        value = reader.double();
        break;
      case field(5, WIRE_LENGTH_DELIMITED):
        value = readArray(reader, reader.delimitedEnd(), depth + 1);
        break;
      case field(6, WIRE_LENGTH_DELIMITED):
        value = readKeyValueList(reader, reader.delimitedEnd(), depth + 1);
        break;
      case field(7, WIRE_LENGTH_DELIMITED): {
        const bytesEnd = reader.delimitedEnd();
        value = base64(reader, reader.pos, bytesEnd);
        reader.pos = bytesEnd;
        break;
      }
      default:
        reader.skip(tag & 7, tag >>> 3, depth + 1);
    }
  }
  reader.limit = outer;
  return value;
}

function readArray(reader: WireReader, end: number, depth: number): AttributeValue[] {
  const outer = reader.limit;
  reader.limit = end;
  const values: AttributeValue[] = [];
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) values.push(readAnyValue(reader, reader.delimitedEnd(), depth + 1));
    else reader.skip(tag & 7, tag >>> 3, depth + 1);
  }
  reader.limit = outer;
  return values;
}

function readKeyValueList(reader: WireReader, end: number, depth: number): Attributes {
  const outer = reader.limit;
  reader.limit = end;
  const values: Attributes = {};
  while (reader.pos < end) {
    const tag = reader.tag();
    if (tag === LENGTH_1) readKeyValue(reader, reader.delimitedEnd(), values, depth + 1);
    else reader.skip(tag & 7, tag >>> 3, depth + 1);
  }
  reader.limit = outer;
  return values;
}

/** A bytes field whose content starts at `pos`, as lower-case hex. */
function hex(reader: WireReader, end: number): string {
  const id = reader.pos === end ? '' : reader.bytes.toString('hex', reader.pos, end);
  reader.pos = end;
  return id;
}

function base64(reader: WireReader, start: number, end: number): string {
  return reader.bytes.toString('base64', start, end);
}
