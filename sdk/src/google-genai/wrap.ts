// Traces a `@google/genai` client in place: `models.generateContent`, `models.generateContentStream` and
// `models.embedContent` get one span per call. Chat sessions (`chats.create(...).sendMessage` /
// `sendMessageStream`) call the same `models` object, so each turn is traced too, with the whole history as input.
import type { GoogleGenAI } from '@google/genai';
import { context, diag } from '@opentelemetry/api';
import { fromGoogleGenAIParams } from '../adapters/google.ts';
import { endWhenAbandoned } from '../instrument/abandoned.ts';
import { createInstrumentation, startLlmSpan, type Instrumentation, type InstrumentationOptions, type LlmRequest, type LlmSpan } from '../instrument/llm-span.ts';
import {
  describeEndpoint,
  embedRequest,
  embedResult,
  GeminiStreamAccumulator,
  generateContentRequest,
  generateContentResult,
  type GeminiEndpoint,
} from './generate-content.ts';

const WRAPPED = Symbol.for('parallax.google-genai.wrapped');

type Method = (params: Record<string, unknown>) => Promise<unknown>;
interface ModelsLike {
  generateContent: Method;
  generateContentStream: Method;
  embedContent: Method;
  apiClient?: { getBaseUrl?: () => string };
}

export function wrapGoogleGenAI<T extends GoogleGenAI>(ai: T, options?: InstrumentationOptions): T {
  const models = (ai as unknown as { models?: ModelsLike }).models;
  if (!models || typeof models.generateContent !== 'function' || (models as unknown as Record<symbol, unknown>)[WRAPPED]) return ai;
  let instrumentation: Instrumentation;
  try {
    instrumentation = createInstrumentation(options);
  } catch (error) {
    diag.debug('@parallax/sdk: could not set up tracing for the GoogleGenAI client; it stays untraced', error);
    return ai;
  }
  // Parsed once per base URL, not once per call.
  const vertex = (ai as { vertexai?: boolean }).vertexai === true;
  let described: { baseUrl: string | undefined; endpoint: GeminiEndpoint } | undefined;
  const endpoint = (): GeminiEndpoint => {
    const baseUrl = models.apiClient?.getBaseUrl?.();
    if (described?.baseUrl !== baseUrl || !described) described = { baseUrl, endpoint: describeEndpoint(baseUrl, vertex) };
    return described.endpoint;
  };

  const generateContent = models.generateContent;
  const generateContentStream = models.generateContentStream;
  const embedContent = models.embedContent;
  const patch = (name: keyof ModelsLike, value: Method) => Object.defineProperty(models, name, { value, writable: true, configurable: true });

  patch('generateContent', async (params) => {
    const call = start(instrumentation, () => generateContentRequest(params.model as string, fromGoogleGenAIParams(params), endpoint()));
    if (!call) return generateContent.call(models, params);
    try {
      const response = await context.with(call.context, () => generateContent.call(models, params));
      call.end(safely(() => generateContentResult(response as Parameters<typeof generateContentResult>[0])));
      return response;
    } catch (error) {
      call.fail(error);
      throw error;
    }
  });

  patch('generateContentStream', async (params) => {
    const call = start(instrumentation, () => generateContentRequest(params.model as string, fromGoogleGenAIParams(params), endpoint()));
    if (!call) return generateContentStream.call(models, params);
    let stream: AsyncGenerator<unknown>;
    try {
      stream = (await context.with(call.context, () => generateContentStream.call(models, params))) as AsyncGenerator<unknown>;
    } catch (error) {
      call.fail(error);
      throw error;
    }
    const traced = tracedStream(stream, call);
    endWhenAbandoned(traced, call);
    return traced;
  });

  patch('embedContent', async (params) => {
    const config = (params.config ?? {}) as { outputDimensionality?: number };
    const call = start(instrumentation, () => embedRequest(params.model as string, endpoint(), config.outputDimensionality));
    if (!call) return embedContent.call(models, params);
    try {
      const response = (await context.with(call.context, () => embedContent.call(models, params))) as {
        embeddings?: Array<{ values?: number[] }>;
        usageMetadata?: { promptTokenCount?: number };
      };
      call.end(safely(() => embedResult(response.embeddings ?? [], response.usageMetadata)));
      return response;
    } catch (error) {
      call.fail(error);
      throw error;
    }
  });

  Object.defineProperty(models, WRAPPED, { value: true });
  return ai;
}

/** Starts the span, or returns undefined when the request cannot even be described: the call then runs untraced. */
function start(instrumentation: Instrumentation, describe: () => LlmRequest): LlmSpan | undefined {
  try {
    return startLlmSpan(instrumentation, describe());
  } catch (error) {
    diag.debug('@parallax/sdk: could not start the Gemini span; calling through', error);
    return undefined;
  }
}

function safely<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch (error) {
    diag.debug('@parallax/sdk: could not read the Gemini response', error);
    return undefined;
  }
}

/**
 * The chunks, unchanged, with the span ending once: complete, failed, or cut short by the caller (`break`, or
 * an abort signal, which is the caller's choice rather than a failure of the call).
 */
export async function* tracedStream<T>(stream: AsyncIterable<T>, call: LlmSpan): AsyncGenerator<T, void, undefined> {
  const accumulator = new GeminiStreamAccumulator();
  let completed = false;
  try {
    for await (const chunk of stream) {
      call.chunk();
      try {
        accumulator.add(chunk as Parameters<GeminiStreamAccumulator['add']>[0]);
      } catch (error) {
        diag.debug('@parallax/sdk: could not read a Gemini stream chunk', error);
      }
      yield chunk;
    }
    completed = true;
  } catch (error) {
    if (isAbort(error)) call.cancel(safely(() => accumulator.result()));
    else call.fail(error, safely(() => accumulator.result()));
    throw error;
  } finally {
    if (completed) call.end(safely(() => accumulator.result()));
    else call.cancel(safely(() => accumulator.result()));
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.constructor?.name === 'AbortError');
}
