// Responses API: what a request and its result (whole or streamed) put on the span.
import type { Response, ResponseCreateParams, ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses';
import { responsesRequestToGenAI, responseToGenAI } from '../adapters/openai.ts';
import type { LlmRequest, LlmResult, LlmUsage } from '../instrument/llm-span.ts';
import { GEN_AI_OPERATION_CHAT, GEN_AI_OUTPUT_TYPE_JSON, GEN_AI_OUTPUT_TYPE_TEXT } from '../semconv.ts';
import type { Endpoint } from './endpoint.ts';

export function responsesRequest(body: ResponseCreateParams, endpoint: Endpoint): LlmRequest {
  const format = body.text?.format?.type;
  return {
    operation: GEN_AI_OPERATION_CHAT,
    provider: endpoint.provider,
    model: body.model,
    serverAddress: endpoint.serverAddress,
    serverPort: endpoint.serverPort,
    temperature: body.temperature,
    maxTokens: body.max_output_tokens,
    topP: body.top_p,
    outputType: format === 'json_schema' || format === 'json_object' ? GEN_AI_OUTPUT_TYPE_JSON : format === 'text' ? GEN_AI_OUTPUT_TYPE_TEXT : undefined,
    attributes: body.service_tier ? { 'openai.request.service_tier': body.service_tier } : undefined,
    content: () => responsesRequestToGenAI(body),
  };
}

function responsesUsage(usage: ResponseUsage | null | undefined): LlmUsage | undefined {
  if (!usage) return undefined;
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadInputTokens: usage.input_tokens_details?.cached_tokens,
    cacheCreationInputTokens: usage.input_tokens_details?.cache_write_tokens,
    reasoningOutputTokens: usage.output_tokens_details?.reasoning_tokens,
  };
}

export function responsesResult(response: Response): LlmResult {
  const output = responseToGenAI(response);
  return {
    id: response.id,
    model: response.model,
    finishReasons: output.map((m) => m.finish_reason),
    usage: responsesUsage(response.usage),
    output: () => output,
    attributes: response.service_tier ? { 'openai.response.service_tier': response.service_tier } : undefined,
  };
}

/** Follows a Responses stream; the terminal event carries the whole response, so nothing is accumulated. */
export class ResponsesStreamState {
  #final: Response | undefined;
  #started: Response | undefined;
  /** True from the first event that carries output (the created/in_progress events come before any). */
  producing = false;

  add(event: ResponseStreamEvent): void {
    switch (event.type) {
      case 'response.created':
        this.#started = event.response;
        return;
      case 'response.in_progress':
        return;
      case 'response.completed':
      case 'response.incomplete':
      case 'response.failed':
        this.#final = event.response;
        return;
      default:
        this.producing = true;
    }
  }

  get failed(): Response | undefined {
    return this.#final?.status === 'failed' ? this.#final : undefined;
  }

  result(): LlmResult {
    if (this.#final) return responsesResult(this.#final);
    return { id: this.#started?.id, model: this.#started?.model };
  }
}
