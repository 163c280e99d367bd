// A local stand-in for the OpenAI API — `POST /v1/chat/completions`, `/v1/responses`, `/v1/embeddings` and the
// legacy `/v1/completions` — close
// enough on the wire that the official `openai` SDK cannot tell: JSON bodies, SSE streams (`data: …` and
// `data: [DONE]` for chat; named events for responses), the usage-only final chunk of
// `stream_options.include_usage`, streamed tool-call argument deltas, base64 embeddings, error bodies
// `{ error: { message, type, param, code } }` and the `x-request-id` header. The shapes follow the SDK's own types
// (openai/resources/chat/completions, openai/resources/responses/responses, openai/resources/embeddings).
// Each test scripts the replies it needs and reads back the requests the server received.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { startStandInHttp, type ReceivedRequest } from './stand-in-http.ts';

export interface OpenAIToolCallReply {
  id?: string;
  name: string;
  /** A JSON string as the model produced it, or a value to serialise. */
  arguments: string | Record<string, unknown>;
}

export interface OpenAIUsageReply {
  /** Chat: prompt_tokens; Responses: input_tokens. All input tokens, cached ones included. */
  input_tokens?: number;
  /** Chat: completion_tokens; Responses: output_tokens. */
  output_tokens?: number;
  cached_tokens?: number;
  cache_write_tokens?: number;
  reasoning_tokens?: number;
}

/** A successful reply; it is shaped for the endpoint the request hits. */
export interface OpenAIMessageReply {
  /** Assistant text. Default: an echo of the last user text (or a JSON echo when a JSON format was asked). */
  text?: string | null;
  toolCalls?: OpenAIToolCallReply[];
  refusal?: string;
  /** Responses only: a reasoning summary item before the message. */
  reasoning?: string;
  /** Chat: stop | length | tool_calls | content_filter. Default stop, or tool_calls when there are tool calls. */
  finishReason?: string;
  usage?: OpenAIUsageReply;
  /** Embeddings only: the vectors, one per input. Default: deterministic 8-dimensional vectors. */
  embeddings?: number[][];
  /** The model the response names; the request's model when unset. */
  model?: string;
  id?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering at all. */
  delayMs?: number;
  /** Streams only: wait this long before each event after the first. */
  chunkDelayMs?: number;
  /** Streams only: how many pieces the text and each tool call's arguments are cut into (default 3). */
  pieces?: number;
  /** Streams only: after this many SSE events, send nothing more and keep the connection open. */
  stallAfterEvents?: number;
  /** Streams only: after this many SSE events, destroy the connection. */
  disconnectAfterEvents?: number;
  /** Streams only: after this many SSE events, send an error event and end the stream. */
  streamErrorAfterEvents?: number;
  streamError?: { message: string; type: string; code?: string | null };
}

/** An error reply: the status and the body `{ error: { message, type, param, code } }`. */
export interface OpenAIErrorReply {
  status: number;
  error: { message: string; type: string; code?: string | null; param?: string | null };
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Destroy the connection without any response (a network error to the client). */
export interface OpenAIDisconnectReply {
  disconnect: true;
}

/** Exactly these bytes as the response body (e.g. a proxy's broken JSON under a 200). */
export interface OpenAIRawReply {
  raw: string;
  /** Default 200. */
  status?: number;
  /** Default application/json. */
  contentType?: string;
}

export type OpenAIReply = OpenAIMessageReply | OpenAIErrorReply | OpenAIDisconnectReply | OpenAIRawReply;

export interface OpenAIRecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: any;
}

export interface OpenAIServer {
  /** The base URL to give the client, `/v1` included: `new OpenAI({ baseURL: server.url, apiKey: 'test' })`. */
  url: string;
  /** The origin, for clients that add `/openai/...` themselves (AzureOpenAI's `endpoint`). */
  origin: string;
  /**
   * Queue replies, answered in order. A function is called with the request and its result is the reply.
   * With an empty queue the server answers a deterministic echo.
   */
  enqueue(...replies: Array<OpenAIReply | ((request: OpenAIRecordedRequest) => OpenAIReply)>): void;
  /** Every request received, in order. */
  requests: OpenAIRecordedRequest[];
  /** The last request received (throws when there was none). */
  lastRequest(): OpenAIRecordedRequest;
  close(): Promise<void>;
}

const CREATED = 1_767_225_600;

export async function startOpenAIServer(): Promise<OpenAIServer> {
  const queue: Array<OpenAIReply | ((request: OpenAIRecordedRequest) => OpenAIReply)> = [];
  const requests: OpenAIRecordedRequest[] = [];
  let counter = 0;

  async function handle(received: ReceivedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url } = received;
    // Shapes differ per endpoint; validate() checks what each one needs.
    const body: any = received.body;
    const recorded: OpenAIRecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    };
    requests.push(recorded);
    const requestId = `req_${String(++counter).padStart(6, '0')}`;

    // Azure routes deployments as /openai/deployments/{name}/chat/completions.
    const route = url.pathname.replace(/^\/openai\/deployments\/[^/]+/, '/v1').replace(/^\/openai\//, '/v1/');
    const endpoint = ENDPOINTS[route];
    if (req.method !== 'POST' || !endpoint) {
      sendError(res, 404, { message: `Unknown request URL: ${req.method} ${url.pathname}`, type: 'invalid_request_error', code: 'unknown_url' }, { 'x-request-id': requestId });
      return;
    }
    if (typeof body !== 'object' || body === null) {
      sendError(res, 400, { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', code: null }, { 'x-request-id': requestId });
      return;
    }

    const next = queue.shift();
    const reply: OpenAIReply = typeof next === 'function' ? next(recorded) : (next ?? {});
    if ('disconnect' in reply) {
      req.socket.destroy();
      return;
    }
    if ('raw' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json', 'x-request-id': requestId });
      res.end(reply.raw);
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if ('status' in reply) {
      sendError(res, reply.status, reply.error, { 'x-request-id': requestId, ...reply.headers });
      return;
    }
    const invalid = validate(endpoint, body);
    if (invalid) {
      sendError(res, 400, { message: invalid, type: 'invalid_request_error', code: null }, { 'x-request-id': requestId });
      return;
    }
    const headers = { 'x-request-id': requestId, 'openai-processing-ms': '1', ...reply.headers };
    if (endpoint === 'embeddings') {
      sendJson(res, 200, embeddingsBody(body, reply), headers);
    } else if (endpoint === 'completions') {
      const completion = textCompletion(body, reply, counter);
      if (body.stream) await streamEvents(res, textCompletionChunks(body, completion, reply), reply, headers, 'chat');
      else sendJson(res, 200, completion, headers);
    } else if (endpoint === 'chat') {
      const completion = chatCompletion(body, reply, counter);
      if (body.stream) await streamEvents(res, chatChunks(body, completion, reply), reply, headers, 'chat');
      else sendJson(res, 200, completion, headers);
    } else {
      const response = responseObject(body, reply, counter);
      if (body.stream) await streamEvents(res, responseEvents(response, reply), reply, headers, 'responses');
      else sendJson(res, 200, response, headers);
    }
  }

  async function streamEvents(
    res: ServerResponse,
    events: Array<[string | null, unknown]>,
    reply: OpenAIMessageReply,
    headers: Record<string, string>,
    kind: 'chat' | 'responses',
  ): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...headers });
    for (let i = 0; i < events.length; i++) {
      if (res.destroyed) return;
      if (reply.stallAfterEvents !== undefined && i >= reply.stallAfterEvents) return; // connection stays open
      if (reply.disconnectAfterEvents !== undefined && i >= reply.disconnectAfterEvents) {
        // Let the events written so far reach the client first, as a real dropped connection would.
        await new Promise<void>((resolve) => res.write('', () => resolve()));
        res.socket?.destroy();
        return;
      }
      if (reply.streamErrorAfterEvents !== undefined && i >= reply.streamErrorAfterEvents) {
        const error = reply.streamError ?? { message: 'The server had an error while processing your request.', type: 'server_error', code: null };
        if (kind === 'chat') res.write(`data: ${JSON.stringify({ error: { ...error, param: null, code: error.code ?? null } })}\n\n`);
        else res.write(`event: error\ndata: ${JSON.stringify({ type: 'error', code: error.code ?? error.type, message: error.message, param: null, sequence_number: i })}\n\n`);
        res.end();
        return;
      }
      if (i > 0 && reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      const [event, data] = events[i]!;
      res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
    }
    res.end();
  }


  const http = await startStandInHttp(handle, (res, message) => sendError(res, 500, { message, type: 'server_error', code: null }, {}));
  const { sleep } = http;
  return {
    url: `${http.origin}/v1`,
    origin: http.origin,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    lastRequest: () => {
      const last = requests.at(-1);
      if (!last) throw new Error('The OpenAI stand-in has received no request yet.');
      return last;
    },
    close: http.close,
  };
}

type Endpoint = 'chat' | 'responses' | 'embeddings' | 'completions';

const ENDPOINTS: Record<string, Endpoint> = {
  '/v1/chat/completions': 'chat',
  '/v1/responses': 'responses',
  '/v1/embeddings': 'embeddings',
  '/v1/completions': 'completions',
};


function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, error: OpenAIErrorReply['error'], headers: Record<string, string>): void {
  sendJson(res, status, { error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code ?? null } }, headers);
}

/** The rules the real API enforces that an adapter or wrapper bug would break. */
function validate(endpoint: Endpoint, body: any): string | undefined {
  if (typeof body.model !== 'string' || !body.model) return "you must provide a model parameter";
  if (endpoint === 'completions') {
    if (body.prompt === undefined) return "Missing required parameter: 'prompt'.";
    if (body.stream_options && !body.stream) return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
  }
  if (endpoint === 'chat') {
    if (!Array.isArray(body.messages) || body.messages.length === 0) return "Invalid 'messages': empty array. Expected an array with minimum length 1.";
    for (const [i, m] of body.messages.entries()) {
      if (!['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(m?.role)) return `Invalid value for 'messages[${i}].role'.`;
      if (m.role === 'tool' && typeof m.tool_call_id !== 'string') return `Missing required parameter: 'messages[${i}].tool_call_id'.`;
    }
    if (body.stream_options && !body.stream) return "The 'stream_options' parameter is only allowed when 'stream' is enabled.";
  }
  if (endpoint === 'responses' && body.input === undefined && body.previous_response_id === undefined && body.prompt === undefined) {
    return "Missing required parameter: 'input'.";
  }
  if (endpoint === 'embeddings' && (body.input === undefined || (Array.isArray(body.input) && body.input.length === 0))) {
    return "'input' : input cannot be an empty string.";
  }
  return undefined;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: any) => (p?.type === 'text' || p?.type === 'input_text' || p?.type === 'output_text' ? p.text : ''))
      .join('');
  }
  return '';
}

function lastUserText(body: any): string {
  if (Array.isArray(body.messages)) {
    for (let i = body.messages.length - 1; i >= 0; i--) if (body.messages[i]?.role === 'user') return textOf(body.messages[i].content);
  }
  if (typeof body.input === 'string') return body.input;
  if (Array.isArray(body.input)) {
    for (let i = body.input.length - 1; i >= 0; i--) {
      const item = body.input[i];
      if (item?.role === 'user') return textOf(item.content);
    }
  }
  return '';
}

function wantsJson(body: any): boolean {
  const format = body.response_format?.type ?? body.text?.format?.type;
  return format === 'json_object' || format === 'json_schema';
}

function defaultText(body: any): string {
  const user = lastUserText(body);
  return wantsJson(body) ? JSON.stringify({ echo: user }) : `Echo: ${user}`;
}

/** Rough but deterministic: four characters a token, at least one. */
function countTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usageNumbers(body: any, reply: OpenAIMessageReply, output: string) {
  const input = reply.usage?.input_tokens ?? countTokens(JSON.stringify(body.messages ?? body.input ?? ''));
  const out = reply.usage?.output_tokens ?? countTokens(output);
  return { input, output: out, cached: reply.usage?.cached_tokens ?? 0, cacheWrite: reply.usage?.cache_write_tokens ?? 0, reasoning: reply.usage?.reasoning_tokens ?? 0 };
}

function argumentsText(call: OpenAIToolCallReply): string {
  return typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments);
}

function chatCompletion(body: any, reply: OpenAIMessageReply, n: number) {
  const toolCalls = reply.toolCalls?.map((call, i) => ({
    id: call.id ?? `call_${n}_${i}`,
    type: 'function' as const,
    function: { name: call.name, arguments: argumentsText(call) },
  }));
  const text = reply.text !== undefined ? reply.text : toolCalls?.length ? null : defaultText(body);
  const finishReason = reply.finishReason ?? (toolCalls?.length ? 'tool_calls' : 'stop');
  const choiceCount = typeof body.n === 'number' && body.n > 1 ? body.n : 1;
  const usage = usageNumbers(body, reply, (text ?? '') + (toolCalls?.map((c) => c.function.arguments).join('') ?? ''));
  return {
    id: reply.id ?? `chatcmpl-${String(n).padStart(8, '0')}`,
    object: 'chat.completion' as const,
    created: CREATED,
    model: reply.model ?? body.model,
    system_fingerprint: 'fp_standin',
    service_tier: 'default',
    choices: Array.from({ length: choiceCount }, (_, index) => ({
      index,
      message: {
        role: 'assistant' as const,
        content: text,
        refusal: reply.refusal ?? null,
        annotations: [],
        ...(toolCalls?.length ? { tool_calls: toolCalls } : {}),
      },
      logprobs: null,
      finish_reason: finishReason,
    })),
    usage: {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
      prompt_tokens_details: { cached_tokens: usage.cached, audio_tokens: 0, ...(usage.cacheWrite ? { cache_write_tokens: usage.cacheWrite } : {}) },
      completion_tokens_details: { reasoning_tokens: usage.reasoning, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
    },
  };
}

/** Legacy Completions (`/v1/completions`): the prompt is text, the answer is `choices[].text`. */
function textCompletion(body: any, reply: OpenAIMessageReply, n: number) {
  const prompt = Array.isArray(body.prompt) ? body.prompt.join('\n') : String(body.prompt);
  const text = reply.text ?? `Echo: ${prompt}`;
  const usage = usageNumbers({ messages: [{ role: 'user', content: prompt }] }, reply, text);
  return {
    id: reply.id ?? `cmpl-${String(n).padStart(8, '0')}`,
    object: 'text_completion' as const,
    created: CREATED,
    model: reply.model ?? body.model,
    system_fingerprint: 'fp_standin',
    choices: [{ text, index: 0, logprobs: null, finish_reason: reply.finishReason ?? 'stop' }],
    usage: { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output },
  };
}

function textCompletionChunks(body: any, completion: ReturnType<typeof textCompletion>, reply: OpenAIMessageReply): Array<[null, unknown]> {
  const { usage, choices, ...base } = completion;
  const chunks: Array<[null, unknown]> = split(choices[0]!.text, reply.pieces ?? 3).map((text) => [null, { ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: null }] }]);
  chunks.push([null, { ...base, choices: [{ text: '', index: 0, logprobs: null, finish_reason: choices[0]!.finish_reason }] }]);
  if (body.stream_options?.include_usage) chunks.push([null, { ...base, choices: [], usage }]);
  chunks.push([null, '[DONE]']);
  return chunks;
}

function split(text: string, pieces: number): string[] {
  if (!text) return [];
  const size = Math.max(1, Math.ceil(text.length / pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function chatChunks(body: any, completion: ReturnType<typeof chatCompletion>, reply: OpenAIMessageReply): Array<[null, unknown]> {
  const includeUsage = body.stream_options?.include_usage === true;
  const base = { id: completion.id, object: 'chat.completion.chunk', created: completion.created, model: completion.model, system_fingerprint: completion.system_fingerprint, service_tier: 'default' };
  const chunk = (choices: unknown[]) => [null, { ...base, choices, ...(includeUsage ? { usage: null } : {}) }] as [null, unknown];
  const pieces = reply.pieces ?? 3;
  const events: Array<[null, unknown]> = [];
  for (const choice of completion.choices) {
    const index = choice.index;
    const delta = (d: unknown, finish: string | null = null) => chunk([{ index, delta: d, logprobs: null, finish_reason: finish }]);
    events.push(delta({ role: 'assistant', content: choice.message.content === null ? null : '', refusal: null }));
    for (const piece of split(choice.message.content ?? '', pieces)) events.push(delta({ content: piece }));
    const toolCalls = 'tool_calls' in choice.message ? choice.message.tool_calls : undefined;
    toolCalls?.forEach((call, i) => {
      events.push(delta({ tool_calls: [{ index: i, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
      for (const piece of split(call.function.arguments, pieces)) events.push(delta({ tool_calls: [{ index: i, function: { arguments: piece } }] }));
    });
    events.push(delta({}, choice.finish_reason));
  }
  if (includeUsage) events.push([null, { ...base, choices: [], usage: completion.usage }]);
  events.push([null, '[DONE]']);
  return events;
}

function responseObject(body: any, reply: OpenAIMessageReply, n: number) {
  const output: any[] = [];
  if (reply.reasoning) {
    output.push({ type: 'reasoning', id: `rs_${n}`, summary: [{ type: 'summary_text', text: reply.reasoning }] });
  }
  const text = reply.text !== undefined ? reply.text : reply.toolCalls?.length ? null : defaultText(body);
  if (text !== null) {
    output.push({
      type: 'message',
      id: `msg_${n}`,
      status: 'completed',
      role: 'assistant',
      content: [{ type: 'output_text', text, annotations: [], logprobs: [] }],
    });
  }
  reply.toolCalls?.forEach((call, i) => {
    output.push({ type: 'function_call', id: `fc_${n}_${i}`, call_id: call.id ?? `call_${n}_${i}`, name: call.name, arguments: argumentsText(call), status: 'completed' });
  });
  const usage = usageNumbers(body, reply, (text ?? '') + (reply.toolCalls?.map(argumentsText).join('') ?? ''));
  const incomplete = reply.finishReason === 'length' || reply.finishReason === 'max_output_tokens';
  return {
    id: reply.id ?? `resp_${String(n).padStart(8, '0')}`,
    object: 'response' as const,
    created_at: CREATED,
    status: incomplete ? 'incomplete' : 'completed',
    error: null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: reply.model ?? body.model,
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: body.reasoning?.effort ?? null, summary: null },
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' } },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: {
      input_tokens: usage.input,
      input_tokens_details: { cached_tokens: usage.cached, cache_write_tokens: usage.cacheWrite },
      output_tokens: usage.output,
      output_tokens_details: { reasoning_tokens: usage.reasoning },
      total_tokens: usage.input + usage.output,
    },
    user: body.user ?? null,
    metadata: body.metadata ?? {},
  };
}

function responseEvents(response: ReturnType<typeof responseObject>, reply: OpenAIMessageReply): Array<[string, unknown]> {
  const pieces = reply.pieces ?? 3;
  const events: Array<[string, unknown]> = [];
  let seq = 0;
  const push = (type: string, data: Record<string, unknown>) => events.push([type, { type, sequence_number: seq++, ...data }]);
  const pending = { ...response, status: 'in_progress', output: [], usage: null, incomplete_details: null };
  push('response.created', { response: pending });
  push('response.in_progress', { response: pending });
  response.output.forEach((item: any, output_index: number) => {
    if (item.type === 'message') {
      const part = item.content[0];
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      push('response.content_part.added', { item_id: item.id, output_index, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
      for (const delta of split(part.text, pieces)) {
        push('response.output_text.delta', { item_id: item.id, output_index, content_index: 0, delta, logprobs: [] });
      }
      push('response.output_text.done', { item_id: item.id, output_index, content_index: 0, text: part.text, logprobs: [] });
      push('response.content_part.done', { item_id: item.id, output_index, content_index: 0, part });
    } else if (item.type === 'function_call') {
      push('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of split(item.arguments, pieces)) push('response.function_call_arguments.delta', { item_id: item.id, output_index, delta });
      push('response.function_call_arguments.done', { item_id: item.id, output_index, name: item.name, arguments: item.arguments });
    } else {
      push('response.output_item.added', { output_index, item });
    }
    push('response.output_item.done', { output_index, item });
  });
  push(response.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response });
  return events;
}

/** A deterministic vector per input text, so two calls with the same input agree. */
function vectorFor(text: string, dimensions: number): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return Array.from({ length: dimensions }, (_, i) => Math.fround(Math.sin(h + i)));
}

function embeddingsBody(body: any, reply: OpenAIMessageReply) {
  const inputs: unknown[] = Array.isArray(body.input) ? body.input : [body.input];
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : 8;
  const base64 = body.encoding_format === 'base64';
  const data = inputs.map((input, index) => {
    const vector = reply.embeddings?.[index] ?? vectorFor(typeof input === 'string' ? input : JSON.stringify(input), dimensions);
    let embedding: number[] | string = vector;
    if (base64) {
      const floats = new Float32Array(vector);
      const bytes = new Uint8Array(floats.buffer);
      // The wire format is little-endian float32: fix the byte order on big-endian hosts.
      if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 0) {
        for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
      }
      embedding = Buffer.from(bytes).toString('base64');
    }
    return { object: 'embedding', index, embedding };
  });
  const promptTokens = reply.usage?.input_tokens ?? inputs.reduce<number>((sum, input) => sum + countTokens(typeof input === 'string' ? input : JSON.stringify(input)), 0);
  return { object: 'list', data, model: reply.model ?? body.model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
}
