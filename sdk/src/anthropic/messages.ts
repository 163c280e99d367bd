// Messages API: what a request and its result (whole or streamed) put on the span.
import type { Message, MessageCreateParams, RawMessageStreamEvent, Usage } from '@anthropic-ai/sdk/resources/messages';
import { outputToGenAI, toGenAI } from '../adapters/anthropic.ts';
import type { LlmRequest, LlmResult, LlmUsage } from '../instrument/llm-span.ts';
import { GEN_AI_OPERATION_CHAT, GEN_AI_OUTPUT_TYPE_JSON } from '../semconv.ts';

export interface Endpoint {
  serverAddress: string | undefined;
  serverPort: number | undefined;
}

export function describeEndpoint(baseURL: string | undefined): Endpoint {
  try {
    const url = new URL(baseURL ?? 'https://api.anthropic.com');
    const serverPort = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { serverAddress: url.hostname, serverPort };
  } catch {
    return { serverAddress: undefined, serverPort: undefined };
  }
}

/** Sampling settings that @anthropic-ai/sdk 1.x no longer types but older clients still send. */
interface LegacySampling {
  temperature?: number;
  top_p?: number;
  top_k?: number;
}

export function messagesRequest(body: MessageCreateParams, endpoint: Endpoint): LlmRequest {
  const legacy = body as LegacySampling;
  const attributes: Record<string, string | number> = {};
  if (body.thinking?.type) attributes['anthropic.thinking.type'] = body.thinking.type;
  if (body.thinking?.type === 'enabled') attributes['anthropic.thinking.budget_tokens'] = body.thinking.budget_tokens;
  if (body.service_tier) attributes['anthropic.request.service_tier'] = body.service_tier;
  return {
    operation: GEN_AI_OPERATION_CHAT,
    provider: 'anthropic',
    model: body.model,
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    maxTokens: body.max_tokens,
    temperature: legacy.temperature,
    topP: legacy.top_p,
    topK: legacy.top_k,
    stopSequences: body.stop_sequences,
    outputType: body.output_config?.format ? GEN_AI_OUTPUT_TYPE_JSON : undefined,
    attributes: Object.keys(attributes).length ? attributes : undefined,
    content: () => {
      const { systemInstructions, inputMessages, toolDefinitions } = toGenAI(body);
      return { systemInstructions, messages: inputMessages, tools: toolDefinitions };
    },
  };
}

type UsageLike = Partial<Pick<Usage, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'>> & {
  output_tokens_details?: { thinking_tokens?: number } | null;
};

/** `gen_ai.usage.input_tokens` is every input token, as the conventions define it: uncached, cache reads and cache writes. */
export function messageUsage(usage: UsageLike | null | undefined): LlmUsage | undefined {
  if (!usage) return undefined;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  const cacheCreation = usage.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: usage.input_tokens != null ? usage.input_tokens + cacheRead + cacheCreation : undefined,
    outputTokens: usage.output_tokens,
    cacheReadInputTokens: usage.cache_read_input_tokens ?? undefined,
    cacheCreationInputTokens: usage.cache_creation_input_tokens ?? undefined,
    reasoningOutputTokens: usage.output_tokens_details?.thinking_tokens,
  };
}

export function messageResult(message: Message): LlmResult {
  return {
    id: message.id,
    model: message.model,
    finishReasons: message.stop_reason ? [message.stop_reason] : undefined,
    usage: messageUsage(message.usage),
    output: () => outputToGenAI(message),
  };
}

type Draft = Record<string, unknown> & { type: string; partial_json?: string };

/**
 * Rebuilds the message from the SSE events the way the API documents them, so a streamed call's span has the
 * same response, usage and output as a whole one.
 */
export class MessageAccumulator {
  #message: Partial<Message> | undefined;
  #usage: UsageLike = {};
  #blocks: Draft[] = [];
  #stopReason: string | null = null;
  #completed = false;

  get completed(): boolean {
    return this.#completed;
  }

  add(event: RawMessageStreamEvent): void {
    switch (event.type) {
      case 'message_start':
        this.#message = event.message;
        this.#usage = { ...event.message.usage };
        break;
      case 'content_block_start':
        this.#blocks[event.index] = { ...(event.content_block as unknown as Draft) };
        break;
      case 'content_block_delta': {
        const block = this.#blocks[event.index];
        if (!block) break;
        const delta = event.delta as unknown as Record<string, string> & { type: string };
        if (delta.type === 'text_delta') block.text = String(block.text ?? '') + delta.text;
        else if (delta.type === 'thinking_delta') block.thinking = String(block.thinking ?? '') + delta.thinking;
        else if (delta.type === 'signature_delta') block.signature = delta.signature;
        else if (delta.type === 'input_json_delta') block.partial_json = (block.partial_json ?? '') + delta.partial_json;
        break;
      }
      case 'content_block_stop': {
        const block = this.#blocks[event.index];
        if (block?.partial_json !== undefined) {
          const { partial_json: json, ...rest } = block;
          this.#blocks[event.index] = { ...rest, input: parseJson(json) };
        }
        break;
      }
      case 'message_delta': {
        this.#stopReason = event.delta.stop_reason ?? this.#stopReason;
        // The delta's counts are cumulative; input counts appear here only when they changed.
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (value != null) (this.#usage as Record<string, unknown>)[key] = value;
        }
        break;
      }
      case 'message_stop':
        this.#completed = true;
        break;
    }
  }

  /** What arrived so far, as a result for the span. */
  result(): LlmResult {
    const blocks = this.#blocks.filter(Boolean).map((b) => (b.partial_json !== undefined ? { ...b, input: parseJson(b.partial_json) } : b));
    const message = { content: blocks, stop_reason: this.#stopReason } as unknown as Message;
    return {
      id: this.#message?.id,
      model: this.#message?.model,
      finishReasons: this.#stopReason ? [this.#stopReason] : undefined,
      usage: messageUsage(this.#usage),
      output: () => (blocks.length ? outputToGenAI(message) : []),
    };
  }
}

function parseJson(text: string | undefined): unknown {
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
