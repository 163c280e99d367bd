import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getContext, traced, withContext } from './context.ts';
import { setDefaultTracerProvider } from './instrument/tracer.ts';
import { captureSpans } from './testing/spans.ts';
import { wrap } from './wrap.ts';

const capture = captureSpans();
let server: OpenAIServer;
let client: OpenAI;

beforeAll(async () => {
  server = await startOpenAIServer();
  setDefaultTracerProvider(capture.tracerProvider);
  client = wrap(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }));
});
afterAll(async () => {
  setDefaultTracerProvider(undefined);
  await server.close();
});
beforeEach(() => capture.reset());

const ask = (content: string) => client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });

describe('withContext and traced', () => {
  it('makes one trace per request: LLM calls (also after await) are children of the traced span', async () => {
    const result = await traced('handle-request', async () => {
      await ask('first');
      await new Promise((resolve) => setTimeout(resolve, 1));
      const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'second' }], stream: true });
      for await (const _ of stream);
      return 'done';
    });
    expect(result).toBe('done');
    const spans = capture.spans();
    const root = spans.find((s) => s.name === 'handle-request')!;
    const children = spans.filter((s) => s.name === 'chat gpt-4o-mini');
    expect(children).toHaveLength(2);
    for (const child of children) {
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    }
  });

  it('puts session, user, tags, metadata and prompt on every span inside, merging nested scopes', async () => {
    await withContext(
      { sessionId: 's-1', userId: 'u-1', tags: ['beta'], metadata: { plan: 'pro', seats: 3 }, prompt: { name: 'greeter', version: 2 } },
      async () => {
        await ask('outer');
        await withContext({ tags: ['retry'], metadata: { plan: 'team' } }, () => ask('inner'));
      },
    );
    await ask('outside');
    const [outer, inner, outside] = capture.spans();
    expect(outer!.attributes).toMatchObject({
      'session.id': 's-1',
      'user.id': 'u-1',
      'parallax.tags': ['beta'],
      'parallax.metadata.plan': 'pro',
      'parallax.metadata.seats': 3,
      'parallax.prompt.name': 'greeter',
      'parallax.prompt.version': '2',
    });
    expect(inner!.attributes).toMatchObject({ 'session.id': 's-1', 'parallax.tags': ['beta', 'retry'], 'parallax.metadata.plan': 'team', 'parallax.metadata.seats': 3 });
    expect(outside!.attributes['session.id']).toBeUndefined();
  });

  it('traced() passes errors through unchanged and records them; works for sync functions', async () => {
    const error = new TypeError('nope');
    await expect(traced('fails', async () => { throw error; })).rejects.toBe(error);
    expect(() => traced('fails-sync', () => { throw error; })).toThrow(error);
    expect(traced('sync', () => 41 + 1)).toBe(42);
    const spans = capture.spans();
    expect(spans.map((s) => [s.name, s.status.code, s.attributes['error.type']])).toEqual([
      ['fails', 2, 'TypeError'],
      ['fails-sync', 2, 'TypeError'],
      ['sync', 0, undefined],
    ]);
  });

  it('traced spans carry the context values too, and getContext() reads them', () => {
    withContext({ sessionId: 'abc' }, () => {
      expect(getContext()?.sessionId).toBe('abc');
      traced('step', () => undefined);
    });
    expect(capture.only().attributes['session.id']).toBe('abc');
  });
});
