// generateContent and embedContent: what a Gemini request and its result (whole or streamed) put on the span.
// Both Google SDKs send and receive the same REST shapes, so the legacy `@google/generative-ai` wrapper uses this
// file too.
import { outputToGenAI, toGenAI, type GeminiPart, type GeminiRequest, type GeminiResponse } from '../adapters/google.ts';
import type { LlmRequest, LlmResult, LlmUsage } from '../instrument/llm-span.ts';
import { ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, GEN_AI_OPERATION_EMBEDDINGS, GEN_AI_OPERATION_GENERATE_CONTENT, GEN_AI_OUTPUT_TYPE_JSON, GEN_AI_OUTPUT_TYPE_TEXT } from '../semconv.ts';

export interface GeminiEndpoint {
  provider: 'gcp.gemini' | 'gcp.vertex_ai';
  serverAddress: string | undefined;
  serverPort: number | undefined;
}

export function describeEndpoint(baseUrl: string | undefined, vertex: boolean): GeminiEndpoint {
  const provider = vertex ? 'gcp.vertex_ai' : 'gcp.gemini';
  try {
    const url = new URL(baseUrl ?? (vertex ? 'https://aiplatform.googleapis.com' : 'https://generativelanguage.googleapis.com'));
    return { provider, serverAddress: url.hostname, serverPort: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80 };
  } catch {
    return { provider, serverAddress: undefined, serverPort: undefined };
  }
}

/** The model id as the span names it: `models/gemini-2.5-flash` and `gemini-2.5-flash` are one model. */
export function modelId(model: string | undefined): string | undefined {
  return model?.replace(/^(?:.*\/)?models\//, '');
}

export function generateContentRequest(model: string | undefined, request: GeminiRequest, endpoint: GeminiEndpoint): LlmRequest {
  const config = request.generationConfig ?? {};
  const num = (key: string) => (typeof config[key] === 'number' ? (config[key] as number) : undefined);
  const mime = config.responseMimeType;
  return {
    operation: GEN_AI_OPERATION_GENERATE_CONTENT,
    provider: endpoint.provider,
    model: modelId(model),
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    temperature: num('temperature'),
    maxTokens: num('maxOutputTokens'),
    topP: num('topP'),
    topK: num('topK'),
    frequencyPenalty: num('frequencyPenalty'),
    presencePenalty: num('presencePenalty'),
    seed: num('seed'),
    choiceCount: num('candidateCount'),
    stopSequences: Array.isArray(config.stopSequences) ? (config.stopSequences as string[]) : undefined,
    outputType: mime === 'application/json' ? GEN_AI_OUTPUT_TYPE_JSON : mime === 'text/plain' ? GEN_AI_OUTPUT_TYPE_TEXT : undefined,
    content: () => {
      const { systemInstructions, inputMessages, toolDefinitions } = toGenAI(request);
      return { systemInstructions, messages: inputMessages, tools: toolDefinitions };
    },
  };
}

interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

/**
 * Gemini's counts in the conventions' terms: the prompt count already includes cached tokens; output is what
 * the model generated, thoughts included (they are billed as output), with the thoughts also on their own.
 */
export function geminiUsage(usage: UsageMetadata | undefined): LlmUsage | undefined {
  if (!usage) return undefined;
  const input = usage.promptTokenCount !== undefined ? usage.promptTokenCount + (usage.toolUsePromptTokenCount ?? 0) : undefined;
  const output =
    usage.candidatesTokenCount !== undefined || usage.thoughtsTokenCount !== undefined
      ? (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0)
      : undefined;
  return {
    inputTokens: input,
    outputTokens: output,
    cacheReadInputTokens: usage.cachedContentTokenCount,
    reasoningOutputTokens: usage.thoughtsTokenCount,
  };
}

type ResponseLike = GeminiResponse & { responseId?: string; modelVersion?: string; usageMetadata?: UsageMetadata };

export function generateContentResult(response: ResponseLike): LlmResult {
  const finishReasons = (response.candidates ?? []).map((c) => c.finishReason).filter((r): r is string => typeof r === 'string');
  return {
    id: response.responseId,
    model: response.modelVersion,
    finishReasons: finishReasons.length ? finishReasons : undefined,
    usage: geminiUsage(response.usageMetadata),
    output: () => outputToGenAI(response),
  };
}

/** Merges streamed chunks into one response: text pieces joined, other parts kept, the last usage and finish reason. */
export class GeminiStreamAccumulator {
  #candidates: Array<{ parts: GeminiPart[]; finishReason?: string }> = [];
  #usage: UsageMetadata | undefined;
  #id: string | undefined;
  #model: string | undefined;
  #finished = false;

  /** Whether a finish reason arrived: the stream ended as the API meant it to. */
  get finished(): boolean {
    return this.#finished;
  }

  add(chunk: ResponseLike): void {
    this.#id ??= chunk.responseId;
    this.#model ??= chunk.modelVersion;
    if (chunk.usageMetadata) this.#usage = chunk.usageMetadata;
    for (const [i, candidate] of (chunk.candidates ?? []).entries()) {
      const index = (candidate as { index?: number }).index ?? i;
      const draft = (this.#candidates[index] ??= { parts: [] });
      for (const part of candidate.content?.parts ?? []) {
        const last = draft.parts.at(-1);
        const joinable = typeof part.text === 'string' && last && typeof last.text === 'string' && !!last.thought === !!part.thought && !part.thoughtSignature;
        if (joinable) last.text = String(last.text) + part.text;
        else draft.parts.push({ ...part });
      }
      if (candidate.finishReason) {
        draft.finishReason = candidate.finishReason;
        this.#finished = true;
      }
    }
  }

  result(): LlmResult {
    return generateContentResult({
      responseId: this.#id,
      modelVersion: this.#model,
      usageMetadata: this.#usage,
      candidates: this.#candidates.filter(Boolean).map((c) => ({ content: { role: 'model', parts: c.parts }, finishReason: c.finishReason })),
    });
  }
}

export function embedRequest(model: string | undefined, endpoint: GeminiEndpoint, dimensions?: number): LlmRequest {
  return {
    operation: GEN_AI_OPERATION_EMBEDDINGS,
    provider: endpoint.provider,
    model: modelId(model),
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    attributes: dimensions ? { [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: dimensions } : undefined,
  };
}

export function embedResult(vectors: Array<{ values?: number[] } | undefined>, usage?: UsageMetadata): LlmResult {
  const dimensions = vectors[0]?.values?.length;
  return {
    usage: usage ? { inputTokens: usage.promptTokenCount } : undefined,
    attributes: dimensions ? { [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: dimensions } : undefined,
  };
}
