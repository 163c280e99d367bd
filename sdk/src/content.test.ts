import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { detachContent, serializeCapped, setDefaultContentOptions } from './content.ts';
import { captureSpans, jsonAttribute } from './testing/spans.ts';
import { wrap, type WrapOptions } from './wrap.ts';

const capture = captureSpans();
let server: OpenAIServer;

beforeAll(async () => {
  server = await startOpenAIServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => capture.reset());

function client(options: WrapOptions = {}) {
  return wrap(new OpenAI({ baseURL: server.url, apiKey: 'test', maxRetries: 0 }), { tracerProvider: capture.tracerProvider, ...options });
}

const question = { model: 'gpt-4o-mini', messages: [{ role: 'system' as const, content: 'sys' }, { role: 'user' as const, content: 'my email is a@b.com' }] };

describe('content capture', () => {
  it('can be turned off per client: no prompt or completion on the span, the rest stays', async () => {
    await client({ captureContent: false }).chat.completions.create(question);
    const span = capture.only();
    for (const name of ['gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions']) expect(span.attributes[name]).toBeUndefined();
    expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  });

  it('is off when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=false, also for streams', async () => {
    process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT = 'false';
    try {
      setDefaultContentOptions({});
      await client().chat.completions.create(question);
      for await (const _ of await client().chat.completions.create({ ...question, stream: true }));
      for (const span of capture.spans()) {
        expect(span.attributes['gen_ai.input.messages']).toBeUndefined();
        expect(span.attributes['gen_ai.output.messages']).toBeUndefined();
      }
      expect(capture.spans()).toHaveLength(2);
    } finally {
      delete process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT;
      setDefaultContentOptions({});
    }
  });

  it('runs the redact hook on every part; a throwing hook drops the attribute, never the call', async () => {
    const redact: WrapOptions['redact'] = (part) =>
      part.type === 'text' ? { ...part, content: String(part.content).replace(/\S+@\S+/g, '[email]') } : part;
    await client({ redact }).chat.completions.create(question);
    const span = capture.only();
    expect(jsonAttribute(span, 'gen_ai.input.messages')[0].parts[0].content).toBe('my email is [email]');
    expect(jsonAttribute(span, 'gen_ai.output.messages')[0].parts[0].content).toBe('Echo: my email is [email]');

    capture.reset();
    const completion = await client({
      redact: () => {
        throw new Error('bug in redact');
      },
    }).chat.completions.create(question);
    expect(completion.choices[0]!.message.content).toBe('Echo: my email is a@b.com');
    expect(capture.only().attributes['gen_ai.input.messages']).toBeUndefined();
  });

  it('caps the size, keeping valid JSON and marking what was cut', async () => {
    const long = 'x'.repeat(5000);
    await client({ maxContentLength: 1000 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: long }] });
    const span = capture.only();
    const json = span.attributes['gen_ai.input.messages'] as string;
    expect(json.length).toBeLessThanOrEqual(1000);
    const messages = JSON.parse(json);
    expect(messages[0].role).toBe('user');
    expect(messages[0].parts[0].content).toMatch(/^x+…\[truncated \d+ chars\]$/);
    expect(span.attributes['parallax.content.truncated']).toEqual(['gen_ai.input.messages', 'gen_ai.output.messages']);
  });
});

describe('serializeCapped', () => {
  it('leaves content under the cap untouched', () => {
    const value = [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }];
    expect(serializeCapped(value, 1000)).toEqual({ json: JSON.stringify(value), truncated: false });
  });

  it('drops the oldest messages, marked, when cutting strings is not enough', () => {
    const value = Array.from({ length: 200 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', parts: [{ type: 'text', content: `message ${i}` }] }));
    const { json, truncated } = serializeCapped(value, 2000);
    expect(truncated).toBe(true);
    expect(json.length).toBeLessThanOrEqual(2000);
    const parsed = JSON.parse(json);
    expect(parsed[0].parts[0].content).toMatch(/entries omitted/);
    expect(parsed.at(-1).parts[0].content).toBe('message 199');
  });
});

describe('detachContent', () => {
  it('copies the objects a part shares with the caller, so changing them later changes nothing serialised', () => {
    const args = { city: 'Paris', days: [1, 2] };
    const when = new Date('2026-01-01T00:00:00Z');
    const messages = [{ role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'weather', arguments: args, at: when }] }];
    const before = JSON.stringify(messages);
    expect(detachContent(messages)).toBe(messages);
    args.city = 'Berlin';
    args.days.push(3);
    expect(JSON.stringify(messages)).toBe(before);
    // Not a plain object: kept as it is, and serialised as JSON always does.
    expect(messages[0]!.parts[0]!.at).toBe(when);
  });

  it('returns on a cyclic value instead of recursing without end (serialising it fails later, caught there)', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const parts = [{ type: 'tool_call_response', id: 'c1', response: cyclic }];
    expect(() => detachContent(parts)).not.toThrow();
    expect(() => JSON.stringify(parts)).toThrow(TypeError);
  });
});
