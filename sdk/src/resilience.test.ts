// Tracing must never break or slow down the user's call.
import type { Tracer, TracerProvider } from '@opentelemetry/api';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flush, init, shutdown, wrap } from './index.ts';

let llm: OpenAIServer;
beforeAll(async () => {
  llm = await startOpenAIServer();
});
afterAll(async () => {
  await llm.close();
});

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'hi' }] };

describe('resilience', () => {
  it('a tracer that throws leaves every call (plain and streamed) working and unchanged', async () => {
    const broken: TracerProvider = {
      getTracer: () =>
        ({
          startSpan: () => {
            throw new Error('tracer exploded');
          },
        }) as unknown as Tracer,
    };
    const client = wrap(new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 }), { tracerProvider: broken });
    const completion = await client.chat.completions.create(question);
    expect(completion.choices[0]!.message.content).toBe('Echo: hi');
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...question, stream: true })) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Echo: hi');
    const { data } = await client.chat.completions.create(question).withResponse();
    expect(data.choices[0]!.message.content).toBe('Echo: hi');
  });

  it('with the collector hanging, calls succeed and take no extra time', async () => {
    // Accepts connections and never answers: the worst case for an exporter.
    const sockets = new Set<import('node:net').Socket>();
    const hanging: Server = createServer(() => undefined);
    hanging.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      init({ endpoint: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/traces` });
      const raw = new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 });
      const client = wrap(new OpenAI({ baseURL: llm.url, apiKey: 'test', maxRetries: 0 }));
      for (let i = 0; i < 5; i++) await client.chat.completions.create(question);
      // An export in flight that will never complete:
      let flushed = false;
      void flush().then(() => (flushed = true));
      // Raw and wrapped calls alternate, so load on the machine hits both alike.
      const rawMs: number[] = [];
      const wrappedMs: number[] = [];
      for (let i = 0; i < 40; i++) {
        for (const [c, out] of [[raw, rawMs], [client, wrappedMs]] as const) {
          const start = performance.now();
          const completion = await c.chat.completions.create(question);
          out.push(performance.now() - start);
          expect(completion.choices[0]!.message.content).toBe('Echo: hi');
        }
      }
      expect(flushed).toBe(false);
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
      // A call that waited on the export would wait for ever (the collector never answers).
      expect(Math.max(...wrappedMs)).toBeLessThan(1000);
      expect(median(wrappedMs)).toBeLessThan(median(rawMs) + 5);
    } finally {
      for (const s of sockets) s.destroy();
      hanging.close();
      await Promise.race([shutdown(), new Promise((resolve) => setTimeout(resolve, 1000))]);
    }
  });
});
