// What message content goes on spans: whether it is captured at all, the redact hook, and the size cap.
import type { ChatMessage, MessagePart } from './adapters/messages.ts';

/** Where a part is about to be recorded. */
export interface RedactTarget {
  attribute: 'input' | 'output' | 'system';
  /** The role of the message holding the part (absent for system instructions). */
  role?: string;
}

/**
 * Called for every message part before it is recorded. Return the part to record (changed or not), or
 * `null` to leave it out. If it throws, the whole attribute is left out rather than recorded unredacted.
 */
export type RedactFn = (part: MessagePart, target: RedactTarget) => MessagePart | null;

export interface ContentOptions {
  /**
   * Record prompts and completions on spans. Default true; `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false`
   * turns it off when no option says otherwise.
   */
  captureContent?: boolean;
  redact?: RedactFn;
  /**
   * Longest JSON string (in UTF-16 characters) recorded per content attribute. Longer content is cut
   * (the JSON stays valid; cut strings end with a `…[truncated N chars]` marker). Default 131072.
   */
  maxContentLength?: number;
}

export interface ContentPolicy {
  capture: boolean;
  redact: RedactFn | undefined;
  maxLength: number;
}

export const DEFAULT_MAX_CONTENT_LENGTH = 128 * 1024;
const CAPTURE_ENV = 'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT';

function captureFromEnv(): boolean {
  const value = process.env[CAPTURE_ENV]?.trim().toLowerCase();
  return !(value === 'false' || value === '0' || value === 'no' || value === 'off');
}

let defaults: ContentPolicy = { capture: captureFromEnv(), redact: undefined, maxLength: DEFAULT_MAX_CONTENT_LENGTH };

/** init() sets the process-wide defaults; the environment is read again then. */
export function setDefaultContentOptions(options: ContentOptions): void {
  defaults = {
    capture: options.captureContent ?? captureFromEnv(),
    redact: options.redact,
    maxLength: options.maxContentLength ?? DEFAULT_MAX_CONTENT_LENGTH,
  };
}

/** A per-client policy: options given to wrap() win, the rest follows init()'s defaults at call time. */
export function contentPolicy(options: ContentOptions | undefined): () => ContentPolicy {
  if (!options || (options.captureContent === undefined && !options.redact && options.maxContentLength === undefined)) {
    return () => defaults;
  }
  return () => ({
    capture: options.captureContent ?? defaults.capture,
    redact: options.redact ?? defaults.redact,
    maxLength: options.maxContentLength ?? defaults.maxLength,
  });
}

/** Applies the redact hook. Throws when the hook throws (the caller then records nothing). */
export function redactMessages<M extends ChatMessage>(messages: M[], redact: RedactFn, attribute: 'input' | 'output'): M[] {
  const out: M[] = [];
  for (const message of messages) {
    const parts: MessagePart[] = [];
    for (const part of message.parts) {
      const kept = redact(part, { attribute, role: message.role });
      if (kept) parts.push(kept);
    }
    out.push({ ...message, parts });
  }
  return out;
}

export function redactParts(parts: MessagePart[], redact: RedactFn): MessagePart[] {
  const out: MessagePart[] = [];
  for (const part of parts) {
    const kept = redact(part, { attribute: 'system' });
    if (kept) out.push(kept);
  }
  return out;
}

export interface SerializedContent {
  json: string;
  truncated: boolean;
}

/**
 * JSON of an array of messages or parts, at most `maxLength` characters. When too long, the longest strings
 * are cut first (to one common length, found by bisection); if that is not enough, the oldest entries are
 * replaced by one marker entry. The result is always valid JSON in the same schema.
 */
export function serializeCapped(value: unknown[], maxLength: number): SerializedContent {
  const json = JSON.stringify(value);
  if (json.length <= maxLength) return { json, truncated: false };

  let lo = 0;
  let hi = longestString(value);
  let best: string | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const candidate = JSON.stringify(cutStrings(value, mid));
    if (candidate.length <= maxLength) {
      best = candidate;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (best !== undefined) return { json: best, truncated: true };

  // Too many entries even with every string emptied: keep the newest entries that fit.
  const short = cutStrings(value, 64) as unknown[];
  for (let start = 1; start < short.length; start++) {
    const candidate = JSON.stringify([omittedMarker(value[0], start), ...short.slice(start)]);
    if (candidate.length <= maxLength) return { json: candidate, truncated: true };
  }
  return { json: JSON.stringify([omittedMarker(value[0], value.length)]).slice(0, Math.max(0, maxLength)), truncated: true };
}

function omittedMarker(sample: unknown, count: number): unknown {
  const text = `[${count} entries omitted to fit the content size cap]`;
  const isMessage = typeof sample === 'object' && sample !== null && 'parts' in sample;
  return isMessage ? { role: 'parallax', parts: [{ type: 'text', content: text }] } : { type: 'text', content: text };
}

function longestString(value: unknown): number {
  if (typeof value === 'string') return value.length;
  let max = 0;
  if (Array.isArray(value)) {
    for (const item of value) max = Math.max(max, longestString(item));
  } else if (typeof value === 'object' && value !== null) {
    for (const key in value) max = Math.max(max, longestString((value as Record<string, unknown>)[key]));
  }
  return max;
}

function cutStrings(value: unknown, limit: number): unknown {
  if (typeof value === 'string') {
    return value.length > limit ? `${value.slice(0, limit)}…[truncated ${value.length - limit} chars]` : value;
  }
  if (Array.isArray(value)) return value.map((item) => cutStrings(item, limit));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key in value) {
      // The part's type and ids are the schema, not content.
      const v = (value as Record<string, unknown>)[key];
      out[key] = key === 'type' || key === 'role' || key === 'id' ? v : cutStrings(v, limit);
    }
    return out;
  }
  return value;
}

/**
 * Makes converted content independent of the caller's objects, in place. The adapters build new messages and parts,
 * but a part can still point into the request or response (tool-call arguments, tool results, tool schemas), and
 * content is serialised later than it is converted (instrument/deferred-end.ts): the caller may change those
 * objects in between. Strings need no copy, so text-only content costs a look at each part's fields.
 */
export function detachContent<E extends object>(entries: E[]): E[] {
  for (const entry of entries) {
    const fields = entry as Record<string, unknown>;
    for (const key in fields) {
      const value = fields[key];
      if (typeof value !== 'object' || value === null) continue;
      if (key === 'parts' && Array.isArray(value)) detachContent(value as object[]);
      else fields[key] = copyPlain(value, 0);
    }
  }
  return entries;
}

/** Arrays and plain objects are copied; anything else (class instances, typed arrays) serialises by itself. */
function copyPlain(value: unknown, depth: number): unknown {
  // A cycle is left as it is: serialising it fails later and leaves the attribute out, as it always did.
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) return value.map((item) => copyPlain(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key in value) out[key] = copyPlain((value as Record<string, unknown>)[key], depth + 1);
  return out;
}
