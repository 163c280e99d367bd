// Legacy Completions (`client.completions.create`, operation `text_completion`): a text prompt in, text choices
// out, whole or streamed. Still what many OpenAI-compatible servers (vLLM, llama.cpp, Ollama) and fine-tuned base
// models are called with.
import type { Completion, CompletionCreateParams } from 'openai/resources/completions';
import type { ChatMessage, OutputMessage } from '../adapters/messages.ts';
import { toGenAIFinishReason } from '../adapters/openai.ts';
import type { LlmRequest, LlmResult } from '../instrument/llm-span.ts';
import { GEN_AI_OPERATION_TEXT_COMPLETION } from '../semconv.ts';
import { chatUsage } from './chat.ts';
import type { Endpoint } from './endpoint.ts';

export function completionRequest(body: CompletionCreateParams, endpoint: Endpoint): LlmRequest {
  const stop = body.stop;
  return {
    operation: GEN_AI_OPERATION_TEXT_COMPLETION,
    provider: endpoint.provider,
    model: body.model,
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    temperature: body.temperature,
    maxTokens: body.max_tokens,
    topP: body.top_p,
    frequencyPenalty: body.frequency_penalty,
    presencePenalty: body.presence_penalty,
    stopSequences: typeof stop === 'string' ? [stop] : stop,
    seed: body.seed,
    choiceCount: body.n,
    content: () => ({ messages: promptMessages(body.prompt) }),
  };
}

/** Each text prompt as a user message (a batch sends several). Token-id prompts have no text to record. */
function promptMessages(prompt: CompletionCreateParams['prompt']): ChatMessage[] {
  const texts = typeof prompt === 'string' ? [prompt] : Array.isArray(prompt) ? prompt.filter((p): p is string => typeof p === 'string') : [];
  return texts.map((content) => ({ role: 'user', parts: [{ type: 'text', content }] }));
}

export function completionResult(completion: Completion): LlmResult {
  const finishReasons: string[] = [];
  for (const choice of completion.choices ?? []) if (choice.finish_reason) finishReasons.push(choice.finish_reason);
  return {
    id: completion.id,
    model: completion.model,
    finishReasons,
    usage: chatUsage(completion.usage),
    output: () => (completion.choices ?? []).map((choice) => outputMessage(choice.text, choice.finish_reason)),
    attributes: completion.system_fingerprint ? { 'openai.response.system_fingerprint': completion.system_fingerprint } : undefined,
  };
}

function outputMessage(text: string | null | undefined, finish: string | null | undefined): OutputMessage {
  return { role: 'assistant', parts: text ? [{ type: 'text', content: text }] : [], finish_reason: toGenAIFinishReason(finish) };
}

/** Accumulates a streamed completion; text is only kept when it will be recorded. */
export class CompletionStreamState {
  #id: string | undefined;
  #model: string | undefined;
  #usage: Completion['usage'];
  #texts: string[] = [];
  #finish: Array<string | null> = [];
  #keepContent: boolean;
  #hideUsageChunk: boolean;

  constructor(keepContent: boolean, hideUsageChunk: boolean) {
    this.#keepContent = keepContent;
    this.#hideUsageChunk = hideUsageChunk;
  }

  /** Takes in a chunk; false when it is the usage-only chunk we asked for and the caller did not. */
  add(chunk: Completion): boolean {
    if (this.#id === undefined) {
      this.#id = chunk.id;
      this.#model = chunk.model;
    }
    if (chunk.usage) this.#usage = chunk.usage;
    const choices = chunk.choices;
    if (!choices || choices.length === 0) return !(this.#hideUsageChunk && chunk.usage);
    for (const choice of choices) {
      const index = choice.index ?? 0;
      if (choice.finish_reason) this.#finish[index] = choice.finish_reason;
      if (this.#keepContent && choice.text) this.#texts[index] = (this.#texts[index] ?? '') + choice.text;
    }
    return true;
  }

  result(): LlmResult {
    const finishReasons: string[] = [];
    for (const reason of this.#finish) if (reason) finishReasons.push(reason);
    const count = Math.max(this.#texts.length, this.#finish.length);
    return {
      id: this.#id,
      model: this.#model,
      finishReasons,
      usage: chatUsage(this.#usage),
      output: this.#keepContent ? () => Array.from({ length: count }, (_, i) => outputMessage(this.#texts[i], this.#finish[i])) : undefined,
    };
  }
}
