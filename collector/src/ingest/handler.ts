import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AuthVariables } from '../api/auth.ts';
import { decodeJson, MalformedPayloadError, type DecodedRequest } from '../otlp/decode.ts';
import { decodeProtobuf } from '../otlp/decode-protobuf.ts';
import { ExportTraceServiceResponse, RpcStatus } from '../otlp/proto.ts';
import { StorageUnavailableError } from '../store/clickhouse.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import type { IngestBatcher } from './batcher.ts';
import { toSpanRows } from './normalize.ts';

export interface IngestOptions {
  batcher: IngestBatcher;
  priceOverrides: PriceOverrideStore;
  /** Largest accepted body, after gunzip. */
  maxBodyBytes: number;
  /** Seconds a client should wait before retrying when storage is down. */
  retryAfterSeconds: number;
}

export type Encoding = 'protobuf' | 'json';

// gRPC status codes, which OTLP/HTTP puts in the Status body.
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

/**
 * POST /v1/traces as the OTLP/HTTP specification has it: protobuf or JSON, optionally gzipped.
 * 200 only once ClickHouse has committed the spans; 400 (not retryable) stores nothing; 503 with
 * Retry-After when storage is down, so the standard exporters retry the same batch — which the
 * batcher then stores once.
 */
export function ingestTraces(options: IngestOptions) {
  return async (c: Context<{ Variables: AuthVariables }>) => {
    const encoding = encodingOf(c.req.header('content-type'));
    if (!encoding) {
      return otlpError(c, 'json', 415, INVALID_ARGUMENT, 'unsupported Content-Type: send application/x-protobuf or application/json');
    }
    // The body's size on the wire is already bounded by the bodyLimit middleware in front.
    const raw = new Uint8Array(await c.req.arrayBuffer());
    let body = raw;
    const contentEncoding = (c.req.header('content-encoding') ?? '').toLowerCase();
    if (contentEncoding === 'gzip') {
      try {
        body = gunzipSync(raw, { maxOutputLength: options.maxBodyBytes });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
          return tooLarge(c, encoding, options.maxBodyBytes);
        }
        return otlpError(c, encoding, 400, INVALID_ARGUMENT, `body is not valid gzip: ${(error as Error).message}`);
      }
    } else if (contentEncoding && contentEncoding !== 'identity') {
      return otlpError(c, encoding, 415, INVALID_ARGUMENT, `unsupported Content-Encoding "${contentEncoding}": send gzip or none`);
    }

    let decoded: DecodedRequest;
    try {
      decoded = encoding === 'protobuf' ? decodeProtobuf(body) : decodeJson(new TextDecoder().decode(body));
    } catch (error) {
      if (error instanceof MalformedPayloadError) return otlpError(c, encoding, 400, INVALID_ARGUMENT, error.message);
      throw error;
    }

    const projectId = c.get('projectId');
    // 128 bits of the body's hash name the request: an exporter's retry has the same token.
    const token = createHash('sha256').update(projectId).update('\0').update(body).digest('hex').slice(0, 32);
    try {
      const overrides = await options.priceOverrides.forProject(projectId).catch((error: Error) => {
        throw new StorageUnavailableError(`could not read the project's price overrides: ${error.message}`);
      });
      await options.batcher.submit(token, projectId, toSpanRows(projectId, decoded.scopes, overrides));
    } catch (error) {
      if (error instanceof StorageUnavailableError) {
        c.header('Retry-After', String(options.retryAfterSeconds));
        return otlpError(c, encoding, 503, UNAVAILABLE, `${error.message}; nothing was stored, retry the same request`);
      }
      throw error;
    }
    const response = decoded.rejected.count
      ? { partialSuccess: { rejectedSpans: decoded.rejected.count, errorMessage: decoded.rejected.message } }
      : {};
    if (encoding === 'json') return c.json(response, 200);
    const bytes = ExportTraceServiceResponse.encode(ExportTraceServiceResponse.fromObject(response)).finish();
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { 'content-type': 'application/x-protobuf' });
  };
}

export function encodingOf(contentType: string | undefined): Encoding | null {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return null;
}

export function tooLarge(c: Context, encoding: Encoding, limit: number) {
  return otlpError(c, encoding, 413, RESOURCE_EXHAUSTED, `body exceeds the ${limit}-byte limit (after decompression): send smaller batches`);
}

/**
 * OTLP/HTTP error bodies are a google.rpc.Status in the request's encoding. The JSON form also
 * carries the JSON API's `error` object, so every client reads the same message.
 */
export function otlpError(c: Context, encoding: Encoding, status: ContentfulStatusCode, grpcCode: number, message: string) {
  if (encoding === 'json') {
    const code = { 400: 'malformed_payload', 401: 'unauthorized', 413: 'payload_too_large', 415: 'unsupported_media_type', 503: 'storage_unavailable' }[
      status as number
    ];
    return c.json({ code: grpcCode, message, error: { code: code ?? 'error', message } }, status);
  }
  const bytes = RpcStatus.encode(RpcStatus.fromObject({ code: grpcCode, message })).finish();
  return c.body(bytes as Uint8Array<ArrayBuffer>, status, { 'content-type': 'application/x-protobuf' });
}
