import type { Attributes } from '../otlp/decode.ts';
import { fromLogfire } from './conventions/logfire.ts';
import { fromOpenInference } from './conventions/openinference.ts';
import { fromOpenLLMetry } from './conventions/openllmetry.ts';
import { providerName } from './conventions/providers.ts';
import type { SpanEvent } from './conventions/semconv-events.ts';
import { fromSemconv } from './conventions/semconv.ts';
import { fromVercelAI } from './conventions/vercel-ai.ts';

export type { SpanEvent };

/** What a GenAI span contributes beyond a plain span: the row model's first-class columns. */
export interface GenAIFields {
  operation: string;
  provider: string;
  requestModel: string;
  responseModel: string;
  /** Total input tokens, cache reads and writes included (the conventions' meaning), whatever the source said. */
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  finishReasons: string[];
  ttftMs: number | null;
  /** Conventions' message JSON, as strings ('' when absent). */
  inputMessages: string;
  outputMessages: string;
  systemInstructions: string;
  toolDefinitions: string;
  /** Session and user, where the instrumentation's own convention carries them (undefined otherwise). */
  sessionId?: string;
  userId?: string;
}

const NO_EVENTS: readonly SpanEvent[] = [];

/**
 * Operations that are not model calls: their spans wrap the calls (an agent run sums its calls' usage)
 * or are the app's own code, and counting them would count the calls twice.
 */
const NOT_MODEL_CALLS = new Set(['invoke_agent', 'create_agent', 'execute_tool']);

/**
 * Normalises a span from any GenAI instrumentation to the row model: the OpenTelemetry GenAI conventions
 * (v1.41 and older names, message events), OpenLLMetry, OpenInference, the Vercel AI SDK and Logfire.
 * Returns null for spans that are not model calls. Runs for every ingested span, so each convention is
 * recognised by one marker attribute looked up by name, never by scanning the keys.
 *
 * `scopeName` is the instrumentation scope: one convention's meaning of input tokens depends on which
 * instrumentation wrote it (see conventions/openllmetry.ts).
 */
export function extractGenAI(attributes: Attributes, events: readonly SpanEvent[] = NO_EVENTS, scopeName = ''): GenAIFields | null {
  let own: Partial<GenAIFields> | null = null;
  let base: Partial<GenAIFields>;
  if (attributes['ai.operationId'] !== undefined) {
    // The AI SDK's inner spans also carry gen_ai.* names, with its raw token counts; its own names win.
    own = fromVercelAI(attributes);
    if (own === null) return null;
    base = fromSemconv(attributes, NO_EVENTS);
  } else if (attributes['openinference.span.kind'] !== undefined) {
    own = fromOpenInference(attributes);
    if (own === null) return null;
    base = fromSemconv(attributes, NO_EVENTS);
  } else {
    base = fromSemconv(attributes, events);
    if (attributes['llm.request.type'] !== undefined || attributes['traceloop.span.kind'] !== undefined) {
      own = fromOpenLLMetry(attributes, scopeName, base);
      if (own === null) return null;
    } else if (attributes['logfire.msg'] !== undefined || attributes['events'] !== undefined || attributes['request_data'] !== undefined) {
      own = fromLogfire(attributes, base);
    }
  }

  const fields = merge(base, own);
  if (!fields.operation && !fields.provider && !fields.requestModel && !fields.responseModel) return null;
  if (NOT_MODEL_CALLS.has(fields.operation)) return null;
  fields.operation ||= 'chat';
  fields.provider = providerName(fields.provider);
  fields.inputTokens = totalInput(fields);
  return fields;
}

const EMPTY: GenAIFields = {
  operation: '',
  provider: '',
  requestModel: '',
  responseModel: '',
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  finishReasons: [],
  ttftMs: null,
  inputMessages: '',
  outputMessages: '',
  systemInstructions: '',
  toolDefinitions: '',
};

/** The generic conventions' values, overridden by whatever the instrumentation's own convention says. */
function merge(base: Partial<GenAIFields>, own: Partial<GenAIFields> | null): GenAIFields {
  const fields: GenAIFields = { ...EMPTY, ...defined(base) };
  if (own) Object.assign(fields, defined(own));
  return fields;
}

function defined(fields: Partial<GenAIFields>): Partial<GenAIFields> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    const value = fields[key as keyof GenAIFields];
    if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    // A count of 0 is what a convention says when it has none; a time to first token of 0 ms was measured.
    if (value === 0 && key !== 'ttftMs') continue;
    out[key] = value;
  }
  return out as Partial<GenAIFields>;
}

/**
 * The conventions count cache reads and writes as part of the input. An input count below them can
 * only be one that leaves them out (the provider's raw count passed through), so they are added.
 */
function totalInput(fields: GenAIFields): number {
  const cache = fields.cacheReadTokens + fields.cacheWriteTokens;
  return fields.inputTokens < cache ? fields.inputTokens + cache : fields.inputTokens;
}
