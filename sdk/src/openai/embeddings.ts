// Embeddings: what a request and its result put on the span (no message content: inputs are not a conversation).
import type { CreateEmbeddingResponse, EmbeddingCreateParams } from 'openai/resources/embeddings';
import type { LlmRequest, LlmResult } from '../instrument/llm-span.ts';
import { ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT, GEN_AI_OPERATION_EMBEDDINGS } from '../semconv.ts';
import type { Endpoint } from './endpoint.ts';

export function embeddingsRequest(body: EmbeddingCreateParams, endpoint: Endpoint): LlmRequest {
  return {
    operation: GEN_AI_OPERATION_EMBEDDINGS,
    provider: endpoint.provider,
    model: body.model,
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    encodingFormats: body.encoding_format ? [body.encoding_format] : undefined,
    attributes: body.dimensions ? { [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: body.dimensions } : undefined,
  };
}

export function embeddingsResult(response: CreateEmbeddingResponse): LlmResult {
  const first = response.data?.[0]?.embedding;
  return {
    model: response.model,
    usage: response.usage ? { inputTokens: response.usage.prompt_tokens } : undefined,
    attributes: Array.isArray(first) ? { [ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT]: first.length } : undefined,
  };
}
