import { z } from 'zod';

/** An attribute value as OTLP's AnyValue carries it, in plain JS. 64-bit ints beyond 2^53 stay strings. */
export type AttributeValue = string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: Attributes;
  events: { name: string; timeUnixNano: bigint; attributes: Attributes }[];
  status: { code: number; message: string };
}

export interface OtlpScopeSpans {
  resource: Attributes;
  scopeName: string;
  spans: OtlpSpan[];
}

export interface DecodedRequest {
  scopes: OtlpScopeSpans[];
  /** Spans refused one by one (the rest of the request is still good), with the first reason. */
  rejected: { count: number; message: string };
}

/** The request itself is unusable; nothing in it may be stored. */
export class MalformedPayloadError extends Error {}

const int64 = z.union([z.string().regex(/^-?\d+$/, 'expected an integer'), z.number().int()]);
const anyValue: z.ZodType<AnyValueJson> = z.lazy(() =>
  z.object({
    stringValue: z.string().optional(),
    boolValue: z.boolean().optional(),
    intValue: int64.optional(),
    doubleValue: z.union([z.number(), z.string()]).optional(),
    arrayValue: z.object({ values: z.array(anyValue).optional() }).optional(),
    kvlistValue: z.object({ values: z.array(keyValue).optional() }).optional(),
    bytesValue: z.string().optional(),
  }),
);
const keyValue: z.ZodType<KeyValueJson> = z.lazy(() => z.object({ key: z.string(), value: anyValue.optional() }));
const attributes = z.array(keyValue).optional();
const requestSchema = z.object({
  resourceSpans: z
    .array(
      z.object({
        resource: z.object({ attributes }).optional(),
        scopeSpans: z
          .array(
            z.object({
              scope: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
              spans: z
                .array(
                  z.object({
                    traceId: z.string().optional(),
                    spanId: z.string().optional(),
                    parentSpanId: z.string().optional(),
                    name: z.string().optional(),
                    kind: z.union([z.number().int(), z.string()]).optional(),
                    startTimeUnixNano: int64.optional(),
                    endTimeUnixNano: int64.optional(),
                    attributes,
                    events: z
                      .array(z.object({ timeUnixNano: int64.optional(), name: z.string().optional(), attributes }))
                      .optional(),
                    status: z
                      .object({ code: z.union([z.number().int(), z.string()]).optional(), message: z.string().optional() })
                      .optional(),
                  }),
                )
                .optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

interface AnyValueJson {
  stringValue?: string | undefined;
  boolValue?: boolean | undefined;
  intValue?: string | number | undefined;
  doubleValue?: number | string | undefined;
  arrayValue?: { values?: AnyValueJson[] | undefined } | undefined;
  kvlistValue?: { values?: KeyValueJson[] | undefined } | undefined;
  bytesValue?: string | undefined;
}
interface KeyValueJson {
  key: string;
  value?: AnyValueJson | undefined;
}
type RequestJson = z.infer<typeof requestSchema>;

export function decodeJson(text: string): DecodedRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MalformedPayloadError(`invalid OTLP JSON: ${(error as Error).message}`);
  }
  const request = requestSchema.safeParse(parsed);
  if (!request.success) {
    const issue = request.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'body';
    throw new MalformedPayloadError(`invalid OTLP ExportTraceServiceRequest at ${where}: ${issue.message}`);
  }
  return toDecoded(request.data);
}

/**
 * Why a span cannot be stored, or null when it can: every query needs its ids and its start.
 * `sent` gives the ids as the sender wrote them, for the refusal message.
 */
export function spanProblem(
  span: Pick<OtlpSpan, 'traceId' | 'spanId' | 'startTimeUnixNano'>,
  sent: { traceId(): string; spanId(): string },
): string | null {
  if (!/^[0-9a-f]{32}$/.test(span.traceId) || /^0+$/.test(span.traceId)) {
    return `traceId must be 16 non-zero bytes, got ${JSON.stringify(sent.traceId())}`;
  }
  if (!/^[0-9a-f]{16}$/.test(span.spanId) || /^0+$/.test(span.spanId)) {
    return `spanId must be 8 non-zero bytes, got ${JSON.stringify(sent.spanId())}`;
  }
  if (span.startTimeUnixNano <= 0n) return 'startTimeUnixNano is missing';
  return null;
}

/** Counts a refused span; the response's partial_success names the first reason. */
export function rejectSpan(rejected: DecodedRequest['rejected'], message: string): void {
  if (rejected.count === 0) rejected.message = message;
  rejected.count++;
}

function toDecoded(request: RequestJson): DecodedRequest {
  const scopes: OtlpScopeSpans[] = [];
  const rejected = { count: 0, message: '' };
  // OTLP/JSON carries trace and span ids as hex, unlike protobuf's bytes.
  const id = (value: string | undefined): string => (value ? value.toLowerCase() : '');
  (request.resourceSpans ?? []).forEach((resourceSpans, r) => {
    const resource = toAttributes(resourceSpans.resource?.attributes);
    (resourceSpans.scopeSpans ?? []).forEach((scopeSpans, s) => {
      const spans: OtlpSpan[] = [];
      (scopeSpans.spans ?? []).forEach((span, i) => {
        const start = BigInt(span.startTimeUnixNano ?? 0);
        const end = BigInt(span.endTimeUnixNano ?? 0);
        const decoded: OtlpSpan = {
          traceId: id(span.traceId),
          spanId: id(span.spanId),
          parentSpanId: id(span.parentSpanId),
          name: span.name ?? '',
          kind: enumNumber(span.kind, SPAN_KINDS),
          startTimeUnixNano: start,
          endTimeUnixNano: end < start ? start : end,
          attributes: toAttributes(span.attributes),
          events: (span.events ?? []).map((event) => ({
            name: event.name ?? '',
            timeUnixNano: BigInt(event.timeUnixNano ?? 0),
            attributes: toAttributes(event.attributes),
          })),
          status: { code: enumNumber(span.status?.code, STATUS_CODES), message: span.status?.message ?? '' },
        };
        const problem = spanProblem(decoded, { traceId: () => span.traceId ?? '', spanId: () => span.spanId ?? '' });
        if (problem) rejectSpan(rejected, `resourceSpans[${r}].scopeSpans[${s}].spans[${i}]: ${problem}`);
        else spans.push(decoded);
      });
      scopes.push({ resource, scopeName: scopeSpans.scope?.name ?? '', spans });
    });
  });
  return { scopes, rejected };
}

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];

/** OTLP/JSON says enums are integers; some senders write the names. Accept both. */
function enumNumber(value: number | string | undefined, names: string[]): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return Math.max(0, names.indexOf(value));
  return 0;
}

function toAttributes(list: KeyValueJson[] | undefined): Attributes {
  const out: Attributes = {};
  if (!list) return out;
  for (const { key, value } of list) out[key] = toValue(value);
  return out;
}

function toValue(value: AnyValueJson | undefined): AttributeValue {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) {
    const n = Number(value.intValue);
    return Number.isSafeInteger(n) ? n : String(value.intValue);
  }
  if (value.doubleValue !== undefined) return Number(value.doubleValue);
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(toValue);
  if (value.kvlistValue !== undefined) return toAttributes(value.kvlistValue.values);
  if (value.bytesValue !== undefined) return value.bytesValue;
  return null;
}
