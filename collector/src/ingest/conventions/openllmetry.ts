// OpenLLMetry (Traceloop), Python and JS. Its LLM spans carry `llm.request.type` and GenAI names
// (`gen_ai.system`, `gen_ai.usage.prompt_tokens`, flattened `gen_ai.prompt.N.*`, read by semconv.ts);
// this adds what is its own: span kinds, `llm.*` usage, `llm.request.functions.N.*` tools, association properties.
import type { Attributes } from '../../otlp/decode.ts';
import type { GenAIFields } from '../genai.ts';
import { indexed, messageFields, toolDefinition, type ToolDefinition } from './messages.ts';
import { providerName } from './providers.ts';
import { firstNum, num, str } from './values.ts';

/**
 * Instrumentations whose `gen_ai.usage.input_tokens` / `prompt_tokens` is the provider's raw count, which
 * for Anthropic (and Claude on Bedrock Converse) leaves out cache reads and writes:
 * - `@traceloop/instrumentation-anthropic` (JS) sets `gen_ai.usage.prompt_tokens` to `usage.input_tokens`
 *   and the cache counts separately as `gen_ai.usage.cache_read_input_tokens` /
 *   `gen_ai.usage.cache_creation_input_tokens` (openllmetry-js#1027 describes this, unmerged).
 * - `opentelemetry.instrumentation.bedrock` (Python) sets `input_tokens = usage.inputTokens` with
 *   `cacheReadInputTokens` / `cacheWriteInputTokens` apart (openllmetry#4449).
 * The Python Anthropic instrumentation already sums them (`input_tokens = prompt_tokens + cache_read_tokens
 * + cache_creation_tokens`, openllmetry#2175), so it is not listed.
 */
const CACHE_EXCLUSIVE_SCOPES = new Set([
  '@traceloop/instrumentation-anthropic',
  '@traceloop/instrumentation-bedrock',
  'opentelemetry.instrumentation.bedrock',
]);

/** Span kinds of Traceloop's decorators (`@workflow`, `@task`, `@agent`, `@tool`): app code, not model calls. */
const NOT_MODEL_CALLS = new Set(['workflow', 'task', 'agent', 'tool']);

export function fromOpenLLMetry(a: Attributes, scopeName: string, base: Partial<GenAIFields>): Partial<GenAIFields> | null {
  const requestType = str(a['llm.request.type']);
  if (!requestType && NOT_MODEL_CALLS.has(str(a['traceloop.span.kind']))) return null;

  const fields: Partial<GenAIFields> = {};
  if (!base.operation) fields.operation = operationOf(requestType, a);

  const input = base.inputTokens ?? 0;
  const output = base.outputTokens || Math.max(0, num(a['llm.usage.total_tokens']) - input);
  if (output) fields.outputTokens = output;
  const reasoning = firstNum(a['llm.usage.reasoning_tokens']);
  if (reasoning && !base.reasoningTokens) fields.reasoningTokens = reasoning;

  const cache = (base.cacheReadTokens ?? 0) + (base.cacheWriteTokens ?? 0);
  if (cache && CACHE_EXCLUSIVE_SCOPES.has(scopeName) && isClaude(base)) fields.inputTokens = input + cache;

  if (!base.toolDefinitions) {
    const tools = indexed<ToolDefinition>(a, 'llm.request.functions', (field) => {
      const name = field('name');
      if (name === undefined) return null;
      return toolDefinition({ name, description: field('description'), parameters: field('parameters') ?? field('input_schema') }) ?? { type: 'function', name: str(name) };
    });
    Object.assign(fields, messageFields({ tools }));
  }

  const sessionId = str(a['traceloop.association.properties.session_id']);
  const userId = str(a['traceloop.association.properties.user_id']) || str(a['llm.user']);
  if (sessionId) fields.sessionId = sessionId;
  if (userId) fields.userId = userId;
  return fields;
}

/**
 * `llm.request.type` is `chat`, `completion`, `embedding` or `rerank`; the Python Anthropic instrumentation
 * reports Messages API calls as `completion`, so only a legacy prompt (`gen_ai.prompt.0.user`) makes one.
 */
function operationOf(requestType: string, a: Attributes): string {
  switch (requestType) {
    case 'embedding':
      return 'embeddings';
    case 'rerank':
      return 'rerank';
    case 'completion':
      return a['gen_ai.prompt.0.user'] !== undefined ? 'text_completion' : 'chat';
    default:
      return 'chat';
  }
}

function isClaude(base: Partial<GenAIFields>): boolean {
  const provider = providerName(base.provider ?? '');
  if (provider === 'anthropic') return true;
  return /claude/i.test(base.requestModel || base.responseModel || '');
}
