// The stand-in's own wire format, read with plain fetch; the official SDK against it is exercised in
// sdk/src/anthropic/*.test.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAnthropicServer, validateMessagesRequest, type AnthropicServer } from './anthropic-server.ts';

let server: AnthropicServer;
beforeEach(async () => {
  server = await startAnthropicServer();
});
afterEach(async () => {
  await server.close();
});

const request = { model: 'claude-sonnet-4-6', max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] };

function post(body: unknown): Promise<Response> {
  return fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function parseSSE(text: string): Array<[string, any]> {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      return [event, JSON.parse(data)];
    });
}

describe('anthropic stand-in', () => {
  it('answers a JSON message with usage, a request-id and records the request', async () => {
    server.enqueue({ text: 'Bonjour', usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 } });
    const res = await post(request);
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const body = await res.json();
    expect(body).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-6',
      content: [{ type: 'text', text: 'Bonjour' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 3, cache_creation_input_tokens: 4 },
    });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.body).toEqual(request);
  });

  it('streams the documented event sequence, and the deltas rebuild the blocks', async () => {
    server.enqueue({
      content: [
        { type: 'thinking', thinking: 'Let me think', signature: 'sig' },
        { type: 'text', text: 'Checking the weather' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
      ],
      usage: { input_tokens: 7, output_tokens: 30 },
    });
    const res = await post({ ...request, stream: true });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSSE(await res.text());
    expect(events.map(([e]) => e)).toEqual([
      'message_start', 'ping',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    const deltas = events.filter(([e]) => e === 'content_block_delta').map(([, d]) => d.delta);
    expect(deltas.filter((d) => d.type === 'thinking_delta').map((d) => d.thinking).join('')).toBe('Let me think');
    expect(deltas.find((d) => d.type === 'signature_delta').signature).toBe('sig');
    expect(deltas.filter((d) => d.type === 'text_delta').map((d) => d.text).join('')).toBe('Checking the weather');
    expect(JSON.parse(deltas.filter((d) => d.type === 'input_json_delta').map((d) => d.partial_json).join(''))).toEqual({ city: 'Paris' });
    expect(events[0]![1].message.usage.input_tokens).toBe(7);
    expect(events.at(-2)![1]).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 30 } });
  });

  it('answers an error with its status and the API error body', async () => {
    server.enqueue({ status: 529, error: { type: 'overloaded_error', message: 'Overloaded' } });
    const res = await post(request);
    expect(res.status).toBe(529);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  });

  it('sends an error event mid-stream', async () => {
    server.enqueue({ text: 'abc', streamErrorAfterEvents: 3 });
    const events = parseSSE(await (await post({ ...request, stream: true })).text());
    expect(events.map(([e]) => e)).toEqual(['message_start', 'ping', 'content_block_start', 'error']);
  });

  it('rejects requests the real API rejects', async () => {
    const res = await post({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const toolUse = { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: {} }] };
    expect(validateMessagesRequest({ ...request, messages: [request.messages[0], toolUse, { role: 'user', content: 'no result' }] })).toMatch(/without `tool_result`/);
    expect(
      validateMessagesRequest({
        ...request,
        messages: [request.messages[0], toolUse, { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'tool_result', tool_use_id: 't1', content: 'r' }] }],
      }),
    ).toMatch(/must come first/);
    expect(
      validateMessagesRequest({ ...request, messages: [request.messages[0], toolUse, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'r' }] }] }),
    ).toBeUndefined();
    expect(validateMessagesRequest({ ...request, messages: [{ role: 'tool', content: 'x' }] })).toMatch(/role/);
  });

  it('stalls a stream after the given number of events', async () => {
    server.enqueue({ text: 'abcdef', stallAfterEvents: 2 });
    const controller = new AbortController();
    const res = await post({ ...request, stream: true });
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 300;
    while (Date.now() < deadline) {
      const next = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 100))]);
      if (next === null) break;
      if (next.done) throw new Error('the stream ended instead of stalling');
      text += new TextDecoder().decode(next.value);
    }
    controller.abort();
    expect(parseSSE(text).map(([e]) => e)).toEqual(['message_start', 'ping']);
    await reader.cancel();
  });
});
