// Chat Completions: what a request and its result (whole or streamed) put on the span.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { MessagePart, OutputMessage } from '../adapters/messages.ts';
import { chatCompletionToGenAI, chatRequestToGenAI, parseArguments, toGenAIFinishReason } from '../adapters/openai.ts';
import type { LlmRequest, LlmResult, LlmUsage } from '../instrument/llm-span.ts';
import { GEN_AI_OPERATION_CHAT, GEN_AI_OUTPUT_TYPE_JSON, GEN_AI_OUTPUT_TYPE_SPEECH, GEN_AI_OUTPUT_TYPE_TEXT } from '../semconv.ts';
import type { Endpoint } from './endpoint.ts';

export function chatRequest(body: ChatCompletionCreateParams, endpoint: Endpoint): LlmRequest {
  const stop = body.stop;
  return {
    operation: GEN_AI_OPERATION_CHAT,
    provider: endpoint.provider,
    model: body.model,
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    temperature: body.temperature,
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
    topP: body.top_p,
    frequencyPenalty: body.frequency_penalty,
    presencePenalty: body.presence_penalty,
    stopSequences: typeof stop === 'string' ? [stop] : stop,
    seed: body.seed,
    choiceCount: body.n,
    outputType: outputType(body),
    attributes: body.service_tier ? { 'openai.request.service_tier': body.service_tier } : undefined,
    content: () => chatRequestToGenAI(body),
  };
}

function outputType(body: ChatCompletionCreateParams): string | undefined {
  const format = body.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') return GEN_AI_OUTPUT_TYPE_JSON;
  if (body.modalities?.includes('audio')) return GEN_AI_OUTPUT_TYPE_SPEECH;
  if (format === 'text') return GEN_AI_OUTPUT_TYPE_TEXT;
  return undefined;
}

export function chatUsage(usage: CompletionUsage | null | undefined): LlmUsage | undefined {
  if (!usage) return undefined;
  const prompt = usage.prompt_tokens_details;
  return {
    inputTokens: usage.prompt_tokens,
    outputTokens: usage.completion_tokens,
    cacheReadInputTokens: prompt?.cached_tokens,
    cacheCreationInputTokens: prompt?.cache_write_tokens,
    reasoningOutputTokens: usage.completion_tokens_details?.reasoning_tokens,
  };
}

function responseAttributes(serviceTier: string | null | undefined, fingerprint: string | null | undefined) {
  if (!serviceTier && !fingerprint) return undefined;
  const attributes: Record<string, string> = {};
  if (serviceTier) attributes['openai.response.service_tier'] = serviceTier;
  if (fingerprint) attributes['openai.response.system_fingerprint'] = fingerprint;
  return attributes;
}

export function chatResult(completion: ChatCompletion): LlmResult {
  const finishReasons: string[] = [];
  for (const choice of completion.choices ?? []) if (choice.finish_reason) finishReasons.push(choice.finish_reason);
  return {
    id: completion.id,
    model: completion.model,
    finishReasons,
    usage: chatUsage(completion.usage),
    output: () => chatCompletionToGenAI(completion),
    attributes: responseAttributes(completion.service_tier, completion.system_fingerprint),
  };
}

interface ToolCallDraft {
  id: string | undefined;
  name: string;
  args: string;
}

interface ChoiceDraft {
  text: string;
  reasoning: string;
  refusal: string;
  finish: string | null;
  toolCalls: ToolCallDraft[] | undefined;
}

/**
 * Accumulates a chat stream chunk by chunk. Content is only kept when it will be recorded, so a stream with
 * capture off costs a few field reads per chunk.
 */
export class ChatStreamState {
  id: string | undefined;
  model: string | undefined;
  serviceTier: string | null | undefined;
  fingerprint: string | null | undefined;
  usage: CompletionUsage | undefined;
  #keepContent: boolean;
  #hideUsageChunk: boolean;
  #choices: ChoiceDraft[] = [];

  constructor(keepContent: boolean, hideUsageChunk: boolean) {
    this.#keepContent = keepContent;
    this.#hideUsageChunk = hideUsageChunk;
  }

  /** Takes in a chunk; false when the chunk is the usage-only chunk we asked for and the caller did not. */
  add(chunk: ChatCompletionChunk): boolean {
    if (this.id === undefined) {
      this.id = chunk.id;
      this.model = chunk.model;
      this.serviceTier = chunk.service_tier;
      this.fingerprint = chunk.system_fingerprint;
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choices = chunk.choices;
    if (!choices || choices.length === 0) return !(this.#hideUsageChunk && chunk.usage);
    for (let i = 0; i < choices.length; i++) {
      const choice = choices[i]!;
      const draft = (this.#choices[choice.index] ??= { text: '', reasoning: '', refusal: '', finish: null, toolCalls: undefined });
      if (choice.finish_reason) draft.finish = choice.finish_reason;
      if (!this.#keepContent) continue;
      const delta = choice.delta as ChatCompletionChunk.Choice.Delta & { reasoning_content?: string | null; reasoning?: string | null };
      if (!delta) continue;
      if (delta.content) draft.text += delta.content;
      if (delta.refusal) draft.refusal += delta.refusal;
      const reasoning = delta.reasoning_content ?? delta.reasoning;
      if (reasoning) draft.reasoning += reasoning;
      if (delta.tool_calls) {
        const calls = (draft.toolCalls ??= []);
        for (const call of delta.tool_calls) {
          const entry = (calls[call.index] ??= { id: undefined, name: '', args: '' });
          if (call.id) entry.id = call.id;
          if (call.function?.name) entry.name += call.function.name;
          if (call.function?.arguments) entry.args += call.function.arguments;
        }
      }
    }
    return true;
  }

  result(): LlmResult {
    const finishReasons: string[] = [];
    for (const draft of this.#choices) if (draft?.finish) finishReasons.push(draft.finish);
    return {
      id: this.id,
      model: this.model,
      finishReasons,
      usage: chatUsage(this.usage),
      output: this.#keepContent ? () => this.#output() : undefined,
      attributes: responseAttributes(this.serviceTier, this.fingerprint),
    };
  }

  #output(): OutputMessage[] {
    const out: OutputMessage[] = [];
    for (const draft of this.#choices) {
      if (!draft) continue;
      const parts: MessagePart[] = [];
      if (draft.reasoning) parts.push({ type: 'reasoning', content: draft.reasoning });
      if (draft.text) parts.push({ type: 'text', content: draft.text });
      if (draft.refusal) parts.push({ type: 'refusal', content: draft.refusal });
      for (const call of draft.toolCalls ?? []) {
        if (call) parts.push({ type: 'tool_call', id: call.id ?? null, name: call.name, arguments: parseArguments(call.args) });
      }
      out.push({ role: 'assistant', parts, finish_reason: toGenAIFinishReason(draft.finish) });
    }
    return out;
  }
}
