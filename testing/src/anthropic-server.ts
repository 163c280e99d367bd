// A local stand-in for the Anthropic Messages API (`POST /v1/messages`), close enough on the wire that
// `@anthropic-ai/sdk` cannot tell: JSON bodies, the SSE event sequence of a streamed message, error bodies and the
// `request-id` header. Each test scripts the replies it needs and reads back the requests the server received.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { startStandInHttp, type ReceivedRequest } from './stand-in-http.ts';

/** A content block of a scripted reply, as the API returns it. */
export type AnthropicReplyBlock =
  | { type: 'text'; text: string; citations?: unknown[] | null }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown };

export interface AnthropicReplyUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  /** Output tokens spent on thinking (`usage.output_tokens_details.thinking_tokens`). */
  thinking_tokens?: number;
}

/** A successful message. `text` is short for one text block. */
export interface AnthropicMessageReply {
  text?: string;
  content?: AnthropicReplyBlock[];
  stop_reason?: string;
  stop_sequence?: string | null;
  usage?: AnthropicReplyUsage;
  /** The model the response names; the request's model when unset. */
  model?: string;
  id?: string;
  /** Extra response headers. */
  headers?: Record<string, string>;
  /** Wait this long before answering at all. */
  delayMs?: number;
  /** Streams only: wait this long before each event after `message_start`. */
  chunkDelayMs?: number;
  /** Streams only: how many pieces each text, thinking or tool-input delta is cut into (default 2). */
  piecesPerBlock?: number;
  /** Streams only: after this many SSE events, send nothing more and keep the connection open. */
  stallAfterEvents?: number;
  /** Streams only: after this many SSE events, destroy the connection. */
  disconnectAfterEvents?: number;
  /** Streams only: after this many SSE events, send an `error` event and end the stream. */
  streamErrorAfterEvents?: number;
  streamError?: { type: string; message: string };
}

/** An error reply: the status and the body `{ type: 'error', error: { type, message } }`. */
export interface AnthropicErrorReply {
  status: number;
  error: { type: string; message: string };
  headers?: Record<string, string>;
  delayMs?: number;
}

/** Destroy the connection without any response (a network error to the client). */
export interface AnthropicDisconnectReply {
  disconnect: true;
}

/** Exactly these bytes as the response body (e.g. a proxy's broken JSON under a 200). */
export interface AnthropicRawReply {
  raw: string;
  /** Default 200. */
  status?: number;
  /** Default application/json. */
  contentType?: string;
}

export type AnthropicReply = AnthropicMessageReply | AnthropicErrorReply | AnthropicDisconnectReply | AnthropicRawReply;

export interface AnthropicRecordedRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
}

export interface AnthropicServer {
  /** The base URL to give the client: `new Anthropic({ baseURL: server.url })`. */
  url: string;
  /** Queue replies, answered in order; with an empty queue the server answers a short text message. */
  enqueue(...replies: AnthropicReply[]): void;
  /** Every request received, in order. */
  requests: AnthropicRecordedRequest[];
  /** The SSE events of every streamed reply written so far, as `[event, data]` pairs. */
  lastStreamEvents(): Array<[string, unknown]>;
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the Anthropic stand-in.';

export async function startAnthropicServer(): Promise<AnthropicServer> {
  const queue: AnthropicReply[] = [];
  const requests: AnthropicRecordedRequest[] = [];
  let lastEvents: Array<[string, unknown]> = [];
  let counter = 0;

  async function handle(received: ReceivedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, body } = received;
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });

    if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      // Not an LLM call: no reply is taken from the queue. Roughly four characters a token, as the API estimates.
      const problem = typeof (body as { model?: unknown })?.model === 'string' ? undefined : 'model: Field required';
      if (problem) sendError(res, 400, { type: 'invalid_request_error', message: problem }, {});
      else sendJson(res, { input_tokens: Math.max(1, Math.ceil(JSON.stringify((body as { messages?: unknown }).messages ?? '').length / 4)) });
      return;
    }
    if (req.method !== 'POST' || url.pathname !== '/v1/messages') {
      sendError(res, 404, { type: 'not_found_error', message: `Not found: ${req.method} ${url.pathname}` }, {});
      return;
    }
    const problem = validateMessagesRequest(body);
    if (problem) {
      sendError(res, 400, { type: 'invalid_request_error', message: problem }, {});
      return;
    }
    const request = body as { model: string; stream?: boolean };
    const reply: AnthropicReply = queue.shift() ?? { text: DEFAULT_TEXT };
    if ('disconnect' in reply) {
      req.socket.destroy();
      return;
    }
    if ('raw' in reply) {
      res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json', 'request-id': requestId() });
      res.end(reply.raw);
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if ('error' in reply) {
      sendError(res, reply.status, reply.error, reply.headers ?? {});
      return;
    }
    const message = buildMessage(reply, request.model, ++counter);
    if (request.stream) {
      await streamMessage(res, message, reply);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId(), ...reply.headers });
      res.end(JSON.stringify(message));
    }
  }

  async function streamMessage(res: ServerResponse, message: Message, reply: AnthropicMessageReply): Promise<void> {
    const events = messageEvents(message, reply.piecesPerBlock ?? 2);
    lastEvents = [];
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'request-id': requestId(),
      ...reply.headers,
    });
    res.flushHeaders();
    let sent = 0;
    for (const [event, data] of events) {
      if (reply.stallAfterEvents !== undefined && sent >= reply.stallAfterEvents) return;
      if (reply.disconnectAfterEvents !== undefined && sent >= reply.disconnectAfterEvents) {
        res.destroy();
        return;
      }
      if (reply.streamErrorAfterEvents !== undefined && sent >= reply.streamErrorAfterEvents) {
        const error = { type: 'error', error: reply.streamError ?? { type: 'overloaded_error', message: 'Overloaded' } };
        lastEvents.push(['error', error]);
        res.end(`event: error\ndata: ${JSON.stringify(error)}\n\n`);
        return;
      }
      if (sent > 0 && reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      lastEvents.push([event, data]);
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      sent++;
    }
    res.end();
  }


  const http = await startStandInHttp(handle, (res, message) => sendError(res, 500, { type: 'api_error', message }, {}));
  const { sleep } = http;
  return {
    url: http.origin,
    enqueue: (...replies) => void queue.push(...replies),
    requests,
    lastStreamEvents: () => lastEvents,
    close: http.close,
  };
}

interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: Array<Record<string, unknown>>;
  stop_reason: string;
  stop_sequence: string | null;
  stop_details: null;
  container: null;
  diagnostics: null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number | null;
    cache_creation_input_tokens: number | null;
    cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number } | null;
    output_tokens_details: { thinking_tokens: number } | null;
    server_tool_use: null;
    service_tier: 'standard';
    inference_geo: null;
    speed: null;
  };
}

function buildMessage(reply: AnthropicMessageReply, requestModel: string, n: number): Message {
  const blocks: AnthropicReplyBlock[] = reply.content ?? [{ type: 'text', text: reply.text ?? DEFAULT_TEXT }];
  let toolN = 0;
  const content = blocks.map((block): Record<string, unknown> => {
    switch (block.type) {
      case 'text':
        return { type: 'text', text: block.text, citations: block.citations ?? null };
      case 'thinking':
        return { type: 'thinking', thinking: block.thinking, signature: block.signature ?? `sig-${n}` };
      case 'redacted_thinking':
        return { type: 'redacted_thinking', data: block.data };
      case 'tool_use':
        return {
          type: 'tool_use',
          id: block.id ?? `toolu_${String(n).padStart(2, '0')}${++toolN}`,
          name: block.name,
          input: block.input,
          caller: { type: 'direct' },
        };
    }
  });
  const hasToolUse = blocks.some((b) => b.type === 'tool_use');
  const usage = reply.usage ?? {};
  const cacheCreation = usage.cache_creation_input_tokens ?? null;
  return {
    id: reply.id ?? `msg_standin_${n}`,
    type: 'message',
    role: 'assistant',
    model: reply.model ?? requestModel,
    content,
    stop_reason: reply.stop_reason ?? (hasToolUse ? 'tool_use' : 'end_turn'),
    stop_sequence: reply.stop_sequence ?? null,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: {
      input_tokens: usage.input_tokens ?? 12,
      output_tokens: usage.output_tokens ?? 8,
      cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: cacheCreation ?? 0,
      cache_creation: { ephemeral_5m_input_tokens: cacheCreation ?? 0, ephemeral_1h_input_tokens: 0 },
      output_tokens_details: usage.thinking_tokens !== undefined ? { thinking_tokens: usage.thinking_tokens } : null,
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
      speed: null,
    },
  };
}

/** The SSE events the API sends for `message`, in order, as the streaming reference describes them. */
function messageEvents(message: Message, pieces: number): Array<[string, unknown]> {
  const events: Array<[string, unknown]> = [];
  events.push([
    'message_start',
    {
      type: 'message_start',
      message: {
        ...message,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // The start event carries the input side; output_tokens grows in `message_delta`.
        usage: { ...message.usage, output_tokens: 1, output_tokens_details: null },
      },
    },
  ]);
  events.push(['ping', { type: 'ping' }]);
  message.content.forEach((block, index) => {
    const delta = (d: Record<string, unknown>) => events.push(['content_block_delta', { type: 'content_block_delta', index, delta: d }]);
    switch (block.type) {
      case 'text':
        events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '', citations: null } }]);
        for (const piece of cut(String(block.text), pieces)) delta({ type: 'text_delta', text: piece });
        break;
      case 'thinking':
        events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }]);
        for (const piece of cut(String(block.thinking), pieces)) delta({ type: 'thinking_delta', thinking: piece });
        delta({ type: 'signature_delta', signature: String(block.signature) });
        break;
      case 'redacted_thinking':
        events.push(['content_block_start', { type: 'content_block_start', index, content_block: block }]);
        break;
      case 'tool_use':
        events.push([
          'content_block_start',
          { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {}, caller: block.caller } },
        ]);
        for (const piece of cut(JSON.stringify(block.input ?? {}), pieces)) delta({ type: 'input_json_delta', partial_json: piece });
        break;
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push([
    'message_delta',
    {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence, stop_details: null, container: null },
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: message.usage.output_tokens,
        cache_read_input_tokens: message.usage.cache_read_input_tokens,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens,
        output_tokens_details: message.usage.output_tokens_details,
        server_tool_use: null,
      },
    },
  ]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return events;
}

/** Cuts `text` into at most `pieces` non-empty consecutive pieces. */
function cut(text: string, pieces: number): string[] {
  if (text.length === 0) return [];
  const size = Math.ceil(text.length / Math.max(1, pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The checks the real API makes that a replayed or converted conversation can fail, so a test that sends an
 * adapter's output through the official SDK learns whether the API would accept it. Returns the problem, or
 * undefined for a valid request.
 */
export function validateMessagesRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'The request body is not a JSON object.';
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || !b.model) return 'model: Field required';
  if (typeof b.max_tokens !== 'number') return 'max_tokens: Field required';
  if (!Array.isArray(b.messages) || b.messages.length === 0) return 'messages: at least one message is required';
  if (b.system !== undefined && typeof b.system !== 'string' && !Array.isArray(b.system)) {
    return 'system: Input should be a valid string or a list of text blocks';
  }
  let pendingToolUses: string[] = [];
  for (let i = 0; i < b.messages.length; i++) {
    const m = b.messages[i] as Record<string, unknown>;
    if (m.role !== 'user' && m.role !== 'assistant' && m.role !== 'system') {
      return `messages.${i}.role: Input should be 'user', 'assistant' or 'system'`;
    }
    const content = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (!Array.isArray(content)) return `messages.${i}.content: Input should be a valid string or list`;
    if (content.length === 0 && !(m.role === 'assistant' && i === b.messages.length - 1)) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
    const blocks = content as Array<Record<string, unknown>>;
    if (pendingToolUses.length > 0) {
      const results = blocks.filter((c) => c.type === 'tool_result').map((c) => String(c.tool_use_id));
      const missing = pendingToolUses.filter((id) => !results.includes(id));
      if (m.role !== 'user' || missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
    const firstOther = blocks.findIndex((c) => c.type !== 'tool_result');
    const lastResult = blocks.findLastIndex((c) => c.type === 'tool_result');
    if (firstOther !== -1 && lastResult > firstOther) {
      return `messages.${i}: \`tool_result\` blocks must come first in the content, before any other block.`;
    }
    for (const [j, c] of blocks.entries()) {
      if (c.type === 'tool_result' && m.role !== 'user') return `messages.${i}.content.${j}: tool_result blocks are only allowed in user messages`;
      if (c.type === 'tool_use' && m.role !== 'assistant') return `messages.${i}.content.${j}: tool_use blocks are only allowed in assistant messages`;
      if (c.type === 'text' && typeof c.text !== 'string') return `messages.${i}.content.${j}.text: Field required`;
      if (c.type === 'text' && c.text === '') return `messages.${i}.content.${j}: text content blocks must be non-empty`;
      if (c.type === 'tool_result' && !pendingToolUses.includes(String(c.tool_use_id))) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(c.tool_use_id)}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      if (c.type === 'image' && !isValidImageSource(c.source)) return `messages.${i}.content.${j}.image.source: invalid source`;
    }
    pendingToolUses = m.role === 'assistant' ? blocks.filter((c) => c.type === 'tool_use').map((c) => String(c.id)) : [];
  }
  if (pendingToolUses.length > 0) {
    return 'The final assistant message has `tool_use` blocks; send their `tool_result` blocks in a user message.';
  }
  return undefined;
}

function isValidImageSource(source: unknown): boolean {
  if (typeof source !== 'object' || source === null) return false;
  const s = source as Record<string, unknown>;
  if (s.type === 'base64') return typeof s.data === 'string' && /^image\/(jpeg|png|gif|webp)$/.test(String(s.media_type));
  if (s.type === 'url') return typeof s.url === 'string';
  if (s.type === 'file') return typeof s.file_id === 'string';
  return false;
}

function sendError(res: ServerResponse, status: number, error: { type: string; message: string }, headers: Record<string, string>): void {
  const id = requestId();
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id, ...headers });
  res.end(JSON.stringify({ type: 'error', error, request_id: id }));
}

function sendJson(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId() });
  res.end(JSON.stringify(body));
}

function requestId(): string {
  return `req_standin_${Math.random().toString(36).slice(2, 12)}`;
}

