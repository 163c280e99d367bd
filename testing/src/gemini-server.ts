// A local stand-in for the Gemini API (generativelanguage.googleapis.com, `v1beta`), close enough on the wire that
// both `@google/genai` and `@google/generative-ai` cannot tell: `models/{model}:generateContent`,
// `:streamGenerateContent?alt=sse`, `:embedContent`, `:batchEmbedContents`, and `{ error: { code, message, status } }`
// error bodies. Each test scripts the replies it needs and reads back the requests the server received.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { startStandInHttp, type ReceivedRequest } from './stand-in-http.ts';

/** A part of a scripted reply, in the API's JSON shape (`text`, `thought`, `functionCall`, `inlineData`, …). */
export type GeminiReplyPart = Record<string, unknown>;

export interface GeminiReplyUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
  /** Defaults to the sum of prompt, candidates, thoughts and tool-use prompt tokens. */
  totalTokenCount?: number;
}

/** A successful generateContent reply. `text` is short for one text part. */
export interface GeminiGenerateReply {
  text?: string;
  parts?: GeminiReplyPart[];
  /** Short for `functionCall` parts. */
  functionCalls?: Array<{ name: string; args?: Record<string, unknown>; id?: string }>;
  finishReason?: string;
  usage?: GeminiReplyUsage;
  modelVersion?: string;
  responseId?: string;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Streams only: the chunks to send, verbatim, instead of the ones cut from the parts. */
  chunks?: unknown[];
  /** Streams only: how many pieces each text part is cut into (default 2). */
  piecesPerPart?: number;
  /** Streams only: wait this long before each chunk after the first. */
  chunkDelayMs?: number;
  /** Streams only: after this many chunks, send nothing more and keep the connection open. */
  stallAfterChunks?: number;
  /** Streams only: after this many chunks, destroy the connection. */
  disconnectAfterChunks?: number;
}

/** A reply to `:embedContent` (one vector) or `:batchEmbedContents` (one per request). */
export interface GeminiEmbedReply {
  embeddings: number[][];
  usage?: { promptTokenCount?: number; totalTokenCount?: number };
  delayMs?: number;
}

/** An error reply with the API's body `{ error: { code, message, status } }`. */
export interface GeminiErrorReply {
  status: number;
  error: { message: string; status?: string; details?: unknown[] };
  delayMs?: number;
}

/** Destroy the connection without any response (a network error to the client). */
export interface GeminiDisconnectReply {
  disconnect: true;
}

export type GeminiReply = GeminiGenerateReply | GeminiEmbedReply | GeminiErrorReply | GeminiDisconnectReply;

export interface GeminiRecordedRequest {
  method: string;
  /** The path without the query string, e.g. `/v1beta/models/gemini-2.5-flash:generateContent`. */
  path: string;
  /** The method after the colon: `generateContent`, `streamGenerateContent`, `embedContent`, `batchEmbedContents`. */
  action: string;
  /** The model id from the path, without `models/`. */
  model: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface GeminiServer {
  /** The base URL: `new GoogleGenAI({ apiKey, httpOptions: { baseUrl: server.url } })`, `getGenerativeModel({ model }, { baseUrl: server.url })`. */
  url: string;
  /** Queue replies, answered in order; with an empty queue the server answers a short text or default embeddings. */
  enqueue(...replies: GeminiReply[]): void;
  requests: GeminiRecordedRequest[];
  close(): Promise<void>;
}

const DEFAULT_TEXT = 'Hello from the Gemini stand-in.';

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export async function startGeminiServer(): Promise<GeminiServer> {
  const queue: GeminiReply[] = [];
  const requests: GeminiRecordedRequest[] = [];
  let counter = 0;

  async function handle(received: ReceivedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, body } = received;
    // Any API version and the Vertex AI publisher paths end the same way: `models/{model}:{action}`.
    const route = /\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
    const model = route?.[1] ?? '';
    const action = route?.[2] ?? '';
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      action,
      model,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
    });

    if (req.method !== 'POST' || !route) {
      sendError(res, 404, { message: `Method not found: ${req.method} ${url.pathname}` });
      return;
    }
    const known = ['generateContent', 'streamGenerateContent', 'embedContent', 'batchEmbedContents'];
    if (!known.includes(action)) {
      sendError(res, 404, { message: `Method not found: ${action}` });
      return;
    }
    const problem = action.endsWith('GenerateContent') || action === 'generateContent' ? validateGenerateContentRequest(body) : validateEmbedRequest(action, body);
    if (problem) {
      sendError(res, 400, { message: problem });
      return;
    }

    const reply = queue.shift() ?? defaultReply(action, body);
    if ('disconnect' in reply) {
      req.socket.destroy();
      return;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if ('error' in reply) {
      sendError(res, reply.status, reply.error);
      return;
    }
    if ('embeddings' in reply) {
      const usage = reply.usage ? { usageMetadata: reply.usage } : {};
      const payload =
        action === 'embedContent'
          ? { embedding: { values: reply.embeddings[0] ?? [] }, ...usage }
          : { embeddings: reply.embeddings.map((values) => ({ values })), ...usage };
      sendJson(res, 200, payload);
      return;
    }
    if (action === 'embedContent' || action === 'batchEmbedContents') {
      sendError(res, 500, { message: 'stand-in: a generateContent reply was queued for an embedding request' });
      return;
    }
    const n = ++counter;
    const response = buildResponse(reply, model, n);
    if (action === 'streamGenerateContent') {
      await stream(res, reply, reply.chunks ?? streamChunks(response, reply.piecesPerPart ?? 2));
    } else {
      sendJson(res, 200, response, reply.headers);
    }
  }

  async function stream(res: ServerResponse, reply: GeminiGenerateReply, chunks: unknown[]): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
    res.flushHeaders();
    let sent = 0;
    for (const chunk of chunks) {
      if (reply.stallAfterChunks !== undefined && sent >= reply.stallAfterChunks) return;
      if (reply.disconnectAfterChunks !== undefined && sent >= reply.disconnectAfterChunks) {
        res.destroy();
        return;
      }
      if (sent > 0 && reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      sent++;
    }
    res.end();
  }

  const http = await startStandInHttp(handle, (res, message) => sendError(res, 500, { message }));
  const { sleep } = http;
  return {
    url: http.origin,
    enqueue: (...replies) => void queue.push(...replies),
    requests,
    close: http.close,
  };
}

function defaultReply(action: string, body: unknown): GeminiReply {
  if (action === 'embedContent' || action === 'batchEmbedContents') {
    const b = body as { requests?: unknown[]; outputDimensionality?: number };
    const count = action === 'embedContent' ? 1 : (b.requests?.length ?? 1);
    const dims = b.outputDimensionality ?? (b.requests?.[0] as { outputDimensionality?: number } | undefined)?.outputDimensionality ?? 4;
    return { embeddings: Array.from({ length: count }, (_, i) => Array.from({ length: dims }, (_, j) => (i + 1) / (j + 2))) };
  }
  return { text: DEFAULT_TEXT };
}

interface GenerateContentResponse {
  candidates: Array<{ content: { role: 'model'; parts: GeminiReplyPart[] }; finishReason?: string; index: number }>;
  usageMetadata: Record<string, unknown>;
  modelVersion: string;
  responseId: string;
}

function buildResponse(reply: GeminiGenerateReply, model: string, n: number): GenerateContentResponse {
  const parts: GeminiReplyPart[] = [
    ...(reply.parts ?? (reply.text !== undefined || !reply.functionCalls ? [{ text: reply.text ?? DEFAULT_TEXT }] : [])),
    ...(reply.functionCalls ?? []).map((call) => ({ functionCall: { name: call.name, args: call.args ?? {}, ...(call.id ? { id: call.id } : {}) } })),
  ];
  const u = reply.usage ?? {};
  const prompt = u.promptTokenCount ?? 10;
  const candidates = u.candidatesTokenCount ?? 6;
  const usageMetadata: Record<string, unknown> = {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: u.totalTokenCount ?? prompt + candidates + (u.thoughtsTokenCount ?? 0) + (u.toolUsePromptTokenCount ?? 0),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
  };
  if (u.cachedContentTokenCount !== undefined) usageMetadata.cachedContentTokenCount = u.cachedContentTokenCount;
  if (u.thoughtsTokenCount !== undefined) usageMetadata.thoughtsTokenCount = u.thoughtsTokenCount;
  if (u.toolUsePromptTokenCount !== undefined) usageMetadata.toolUsePromptTokenCount = u.toolUsePromptTokenCount;
  return {
    candidates: [{ content: { role: 'model', parts }, finishReason: reply.finishReason ?? 'STOP', index: 0 }],
    usageMetadata,
    modelVersion: reply.modelVersion ?? model,
    responseId: reply.responseId ?? `resp-standin-${n}`,
  };
}

/**
 * The chunks the API streams for `response`: text and thought parts cut into pieces, one chunk per piece, other
 * parts whole; every chunk carries the running usage, and the last one the finish reason and the full usage.
 */
function streamChunks(response: GenerateContentResponse, pieces: number): unknown[] {
  const candidate = response.candidates[0]!;
  const chunkParts: GeminiReplyPart[] = [];
  for (const part of candidate.content.parts) {
    if (typeof part.text === 'string' && part.text.length > 0) {
      for (const piece of cut(part.text, pieces)) chunkParts.push({ ...part, text: piece });
    } else {
      chunkParts.push(part);
    }
  }
  if (chunkParts.length === 0) chunkParts.push({ text: '' });
  const { promptTokenCount } = response.usageMetadata;
  return chunkParts.map((part, i) => {
    const last = i === chunkParts.length - 1;
    return {
      candidates: [
        {
          content: { role: 'model', parts: [part] },
          ...(last ? { finishReason: candidate.finishReason } : {}),
          index: 0,
        },
      ],
      usageMetadata: last ? response.usageMetadata : { promptTokenCount, totalTokenCount: promptTokenCount },
      modelVersion: response.modelVersion,
      responseId: response.responseId,
    };
  });
}

function cut(text: string, pieces: number): string[] {
  const size = Math.ceil(text.length / Math.max(1, pieces));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];

/**
 * The checks the real API makes that a converted or replayed conversation can fail, so a test that sends an
 * adapter's output through an official SDK learns whether the API would accept it. Returns the problem, or
 * undefined for a valid request.
 */
export function validateGenerateContentRequest(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'Invalid JSON payload received.';
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.contents) || b.contents.length === 0) return '* GenerateContentRequest.contents: contents is not specified';
  if (b.systemInstruction !== undefined) {
    const problem = checkParts((b.systemInstruction as { parts?: unknown }).parts, 'systemInstruction');
    if (problem) return problem;
  }
  let pendingCalls = 0;
  for (const [i, raw] of (b.contents as unknown[]).entries()) {
    const content = raw as { role?: unknown; parts?: unknown };
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model') {
      return `Please use a valid role: user, model. (contents[${i}].role = ${JSON.stringify(content.role)})`;
    }
    const problem = checkParts(content.parts, `contents[${i}]`);
    if (problem) return problem;
    const parts = content.parts as Array<Record<string, unknown>>;
    const calls = parts.filter((p) => p.functionCall).length;
    const responses = parts.filter((p) => p.functionResponse).length;
    if (responses > 0 && content.role === 'model') return `contents[${i}]: functionResponse parts belong in a user turn.`;
    if (calls > 0 && content.role !== 'model') return `contents[${i}]: functionCall parts belong in a model turn.`;
    if (pendingCalls > 0 && responses !== pendingCalls) {
      return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.';
    }
    if (pendingCalls === 0 && responses > 0) {
      return `contents[${i}]: Please ensure that function response turn comes immediately after a function call turn.`;
    }
    pendingCalls = calls;
  }
  const tools = (b.tools ?? []) as Array<{ functionDeclarations?: Array<{ name?: unknown }> }>;
  for (const tool of tools) {
    for (const decl of tool.functionDeclarations ?? []) {
      if (typeof decl.name !== 'string' || !/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$/.test(decl.name)) {
        return `* GenerateContentRequest.tools[].function_declarations[].name: Invalid function name ${JSON.stringify(decl.name)}.`;
      }
    }
  }
  return undefined;
}

function checkParts(parts: unknown, where: string): string | undefined {
  if (!Array.isArray(parts) || parts.length === 0) return `* GenerateContentRequest.${where}.parts: contents.parts must not be empty.`;
  for (const [j, part] of (parts as Array<Record<string, unknown>>).entries()) {
    const fields = DATA_FIELDS.filter((f) => part[f] !== undefined);
    if (fields.length !== 1) return `* GenerateContentRequest.${where}.parts[${j}].data: required oneof field 'data' must have one initialized field`;
    const inline = part.inlineData as { mimeType?: unknown; data?: unknown } | undefined;
    if (inline && (typeof inline.mimeType !== 'string' || typeof inline.data !== 'string')) {
      return `* GenerateContentRequest.${where}.parts[${j}].inline_data: mime_type and data are required`;
    }
    const fr = part.functionResponse as { name?: unknown; response?: unknown } | undefined;
    if (fr && (typeof fr.name !== 'string' || typeof fr.response !== 'object' || fr.response === null || Array.isArray(fr.response))) {
      return `* GenerateContentRequest.${where}.parts[${j}].function_response: name and a response object are required`;
    }
  }
  return undefined;
}

function validateEmbedRequest(action: string, body: unknown): string | undefined {
  const b = (body ?? {}) as { content?: { parts?: unknown }; requests?: Array<{ content?: { parts?: unknown }; model?: unknown }> };
  if (action === 'embedContent') return checkParts(b.content?.parts, 'content');
  if (!Array.isArray(b.requests) || b.requests.length === 0) return '* BatchEmbedContentsRequest.requests: requests is not specified';
  for (const [i, r] of b.requests.entries()) {
    const problem = checkParts(r.content?.parts, `requests[${i}].content`);
    if (problem) return problem;
    if (typeof r.model !== 'string' || !r.model.startsWith('models/')) return `* BatchEmbedContentsRequest.requests[${i}].model: must be "models/{model}"`;
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(payload));
}

function sendError(res: ServerResponse, status: number, error: { message: string; status?: string; details?: unknown[] }): void {
  sendJson(res, status, {
    error: { code: status, message: error.message, status: error.status ?? STATUS_NAMES[status] ?? 'UNKNOWN', ...(error.details ? { details: error.details } : {}) },
  });
}

