// The stand-in's own wire format, read with plain fetch; the official `openai` SDK against it is exercised in
// sdk/src/openai/*.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAIServer, type OpenAIServer } from './openai-server.ts';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

function post(path: string, body: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function sseData(text: string): Array<{ event: string | null; data: string }> {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? null;
      const data = lines.find((l) => l.startsWith('data: '))!.slice(6);
      return { event, data };
    });
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] };

describe('OpenAI stand-in', () => {
  it('echoes a chat completion with usage and an x-request-id, and records the request', async () => {
    const res = await post('/chat/completions', chat);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
    const body: any = await res.json();
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0].message).toMatchObject({ role: 'assistant', content: 'Echo: Hi' });
    expect(body.choices[0].finish_reason).toBe('stop');
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(server.lastRequest().body).toEqual(chat);
  });

  it('streams chunks, a usage-only chunk when asked, then [DONE]', async () => {
    server.enqueue({ text: 'abcdef', pieces: 3, usage: { input_tokens: 7, output_tokens: 2 } });
    const res = await post('/chat/completions', { ...chat, stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const events = sseData(await res.text());
    expect(events.at(-1)!.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.map((c) => c.choices[0]?.delta.content).filter(Boolean).join('')).toBe('abcdef');
    const last = chunks.at(-1);
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 2 });
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
  });

  it('streams tool-call arguments as deltas without a usage chunk unless asked', async () => {
    server.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    const res = await post('/chat/completions', { ...chat, stream: true });
    const chunks = sseData(await res.text()).slice(0, -1).map((e) => JSON.parse(e.data));
    expect(chunks.every((c) => c.choices.length === 1 && !('usage' in c))).toBe(true);
    const calls = chunks.flatMap((c) => c.choices[0].delta.tool_calls ?? []);
    expect(calls[0]).toMatchObject({ index: 0, id: 'call_1', function: { name: 'get_weather', arguments: '' } });
    expect(calls.map((c) => c.function.arguments).join('')).toBe('{"city":"Paris"}');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('tool_calls');
  });

  it('answers JSON for a JSON response_format', async () => {
    const res = await post('/chat/completions', { ...chat, response_format: { type: 'json_object' } });
    expect(JSON.parse(((await res.json()) as any).choices[0].message.content)).toEqual({ echo: 'Hi' });
  });

  it('answers the Responses API, non-streamed and as named events', async () => {
    const plain = await (await post('/responses', { model: 'gpt-4o-mini', input: 'Hey' })).json() as any;
    expect(plain.object).toBe('response');
    expect(plain.output[0].content[0].text).toBe('Echo: Hey');
    expect(plain.usage.input_tokens).toBeGreaterThan(0);

    server.enqueue({ text: 'streamed', usage: { input_tokens: 3, output_tokens: 4, cached_tokens: 1 } });
    const events = sseData(await (await post('/responses', { model: 'gpt-4o-mini', input: 'Hey', stream: true })).text());
    expect(events[0]!.event).toBe('response.created');
    const deltas = events.filter((e) => e.event === 'response.output_text.delta').map((e) => JSON.parse(e.data).delta);
    expect(deltas.join('')).toBe('streamed');
    const completed = JSON.parse(events.at(-1)!.data);
    expect(completed.type).toBe('response.completed');
    expect(completed.response.usage).toMatchObject({ input_tokens: 3, output_tokens: 4, input_tokens_details: { cached_tokens: 1 } });
  });

  it('encodes embeddings as little-endian float32 base64 when asked', async () => {
    server.enqueue({ embeddings: [[0.5, -1, 2]] });
    const body = await (await post('/embeddings', { model: 'text-embedding-3-small', input: 'x', encoding_format: 'base64' })).json() as any;
    const bytes = Buffer.from(body.data[0].embedding, 'base64');
    expect([0, 4, 8].map((o) => bytes.readFloatLE(o))).toEqual([0.5, -1, 2]);
    const floats = await (await post('/embeddings', { model: 'text-embedding-3-small', input: ['a', 'b'] })).json() as any;
    expect(floats.data).toHaveLength(2);
    expect(floats.data[0].embedding).toHaveLength(8);
  });

  it('returns scripted errors with the OpenAI error body', async () => {
    server.enqueue({ status: 429, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } });
    const res = await post('/chat/completions', chat);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-request-id')).toBeTruthy();
    expect(await res.json() as any).toEqual({ error: { message: 'Rate limit reached', type: 'requests', param: null, code: 'rate_limit_exceeded' } });
  });

  it('rejects what the real API rejects', async () => {
    expect((await post('/chat/completions', { model: 'gpt-4o-mini', messages: [] })).status).toBe(400);
    expect((await post('/chat/completions', { ...chat, stream_options: { include_usage: true } })).status).toBe(400);
    expect((await post('/chat/completions', { model: 'm', messages: [{ role: 'tool', content: 'x' }] })).status).toBe(400);
    expect((await post('/nope', chat)).status).toBe(404);
  });

  it('sends an error event mid-stream, and can stall', async () => {
    server.enqueue({ text: 'abcdef', streamErrorAfterEvents: 2, streamError: { message: 'overloaded', type: 'server_error' } });
    const events = sseData(await (await post('/chat/completions', { ...chat, stream: true })).text());
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[2]!.data).error.message).toBe('overloaded');

    server.enqueue({ stallAfterEvents: 1 });
    const res = await post('/chat/completions', { ...chat, stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    const next = await Promise.race([reader.read().then(() => 'data'), new Promise((r) => setTimeout(() => r('stalled'), 100))]);
    expect(next).toBe('stalled');
    await reader.cancel();
  });

  it('drops the connection when told to', async () => {
    server.enqueue({ disconnect: true });
    await expect(post('/chat/completions', chat)).rejects.toThrow();
  });
});
