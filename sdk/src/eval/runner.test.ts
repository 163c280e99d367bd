import { startAnthropicServer, startGeminiServer, startOpenAIServer, type AnthropicServer, type GeminiServer, type OpenAIServer, type OpenAIRecordedRequest } from '@parallax/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { init, shutdown } from '../init.ts';
import { captureSpans } from '../testing/spans.ts';
import { createModelCaller, type ModelCaller } from './providers.ts';
import { runEvaluation } from './runner.ts';
import { defineScorer } from './scorers.ts';
import type { CallResult, EvalItem, ModelConfig, PriceFn, RunProgress } from './types.ts';

const capture = captureSpans();
let openai: OpenAIServer;
let anthropic: AnthropicServer;
let gemini: GeminiServer;
let caller: ModelCaller;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startGeminiServer()]);
  init({ tracerProvider: capture.tracerProvider });
});
afterAll(async () => {
  await shutdown();
  await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
});
beforeEach(() => {
  capture.reset();
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  gemini.requests.length = 0;
  caller = createModelCaller({
    apiKeys: { openai: 'sk-test', anthropic: 'sk-ant-test', gemini: 'gm-test' },
    baseUrls: { openai: openai.url, anthropic: anthropic.url, gemini: gemini.url },
    env: {},
  });
});

const GPT: ModelConfig = { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini', params: { temperature: 0, max_tokens: 50 } };
const CLAUDE: ModelConfig = { id: 'claude', provider: 'anthropic', model: 'claude-haiku-4-5', params: { max_tokens: 50 } };
const GEMINI: ModelConfig = { id: 'gemini', provider: 'gemini', model: 'gemini-2.5-flash', params: { temperature: 0, max_tokens: 50 } };

/** $1 per million input tokens, $2 per million output tokens, for every model: costs the test can recompute. */
const flatPrice: PriceFn = (_config, usage) => usage.inputTokens * 1e-6 + usage.outputTokens * 2e-6;

function item(id: string, question: string, extra: Partial<EvalItem> = {}): EvalItem {
  return { id, input: { messages: [{ role: 'user', parts: [{ type: 'text', content: question }] }] }, expectedOutput: null, assertions: [], ...extra };
}

const conversation: EvalItem = {
  id: 'arith',
  input: {
    systemInstructions: [{ type: 'text', content: 'Answer with a number only.' }],
    messages: [
      { role: 'user', parts: [{ type: 'text', content: 'What is 2+2?' }] },
      { role: 'assistant', parts: [{ type: 'text', content: '4' }] },
      { role: 'user', parts: [{ type: 'text', content: 'And 3+3?' }] },
    ],
  },
  expectedOutput: '6',
  assertions: [{ type: 'contains', value: '6' }],
};

/** Records when each request reached the stand-in (the reply function runs on arrival). */
function stamped(times: number[], reply: (request: OpenAIRecordedRequest) => Parameters<OpenAIServer['enqueue']>[0]) {
  return (request: OpenAIRecordedRequest) => {
    times.push(Date.now());
    const r = reply(request);
    return typeof r === 'function' ? r(request) : r;
  };
}

describe('runEvaluation across providers', () => {
  it('replays a conversation on OpenAI, Anthropic and Gemini through their SDKs, and scores, prices and times each answer', async () => {
    openai.enqueue({ text: '6', usage: { input_tokens: 30, output_tokens: 1 } });
    anthropic.enqueue({ text: '6', usage: { input_tokens: 25, output_tokens: 2 } });
    gemini.enqueue({ text: 'It is 7', usage: { promptTokenCount: 20, candidatesTokenCount: 3 } });

    const results = await runEvaluation({ items: [conversation], configs: [GPT, CLAUDE, GEMINI], scorers: [{ type: 'exact_match' }], caller, price: flatPrice });

    expect(results.map((r) => [r.configId, r.output, r.error])).toEqual([
      ['gpt', '6', null],
      ['claude', '6', null],
      ['gemini', 'It is 7', null],
    ]);
    expect(results.map((r) => [r.inputTokens, r.outputTokens])).toEqual([
      [30, 1],
      [25, 2],
      [20, 3],
    ]);
    // $1/M in, $2/M out: 30 + 2·1, 25 + 2·2, 20 + 2·3 millionths of a dollar.
    expect(results.map((r) => r.costUsd! * 1e6)).toEqual([expect.closeTo(32), expect.closeTo(29), expect.closeTo(26)]);
    const gem = results[2]!;
    expect(gem.scores).toEqual([
      { scorer: 'exact_match', value: 0, pass: false, reason: 'expected "6", got "It is 7"' },
      { scorer: 'assertion:contains', value: 0, pass: false, reason: 'does not contain "6": "It is 7"' },
    ]);
    expect(results[0]!.scores.every((s) => s.pass)).toBe(true);
    for (const r of results) {
      expect(r.ttftMs).not.toBeNull();
      expect(r.ttftMs!).toBeLessThanOrEqual(r.latencyMs);
      expect(r.outputMessages[0]!.role).toBe('assistant');
    }

    // The conversation each provider received, in its own wire format, streamed.
    const chat = openai.lastRequest().body;
    expect(chat).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, temperature: 0, max_completion_tokens: 50 });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'Answer with a number only.' },
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4' },
      { role: 'user', content: 'And 3+3?' },
    ]);
    const messages = anthropic.requests[0]!.body as Record<string, any>;
    expect(messages).toMatchObject({ model: 'claude-haiku-4-5', stream: true, max_tokens: 50, system: [{ type: 'text', text: 'Answer with a number only.' }] });
    expect(messages.messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user']);
    const generate = gemini.requests[0]!;
    expect(generate.action).toBe('streamGenerateContent');
    expect(generate.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Answer with a number only.' }] },
      contents: [
        { role: 'user', parts: [{ text: 'What is 2+2?' }] },
        { role: 'model', parts: [{ text: '4' }] },
        { role: 'user', parts: [{ text: 'And 3+3?' }] },
      ],
      generationConfig: { temperature: 0, maxOutputTokens: 50 },
    });
    // The SDKs' own retries are off: no x-stainless-retry-count above 0, one request each.
    expect(openai.requests).toHaveLength(1);
  });

  it('tags every call’s trace with the experiment, item and configuration', async () => {
    const results = await runEvaluation({ experimentId: 'exp-42', items: [item('q1', 'Hi')], configs: [GPT, CLAUDE, GEMINI], caller, price: flatPrice });
    const llmSpans = capture.spans().filter((s) => s.attributes['gen_ai.operation.name']);
    expect(llmSpans).toHaveLength(3);
    for (const result of results) {
      const span = llmSpans.find((s) => s.spanContext().traceId === result.traceId);
      expect(span, `an LLM span in the trace of ${result.configId}`).toBeDefined();
      expect(span!.attributes).toMatchObject({
        'parallax.tags': ['experiment'],
        'parallax.metadata.experiment': 'exp-42',
        'parallax.metadata.item': 'q1',
        'parallax.metadata.config': result.configId,
      });
    }
    expect(new Set(results.map((r) => r.traceId)).size).toBe(3);
  });

  it('puts a judge’s call in the same trace, marked as grading', async () => {
    openai.enqueue({ text: 'Paris' });
    anthropic.enqueue({ text: '{"score": 1, "pass": true, "reason": "ok"}' });
    const judge: ModelConfig = { id: 'judge', provider: 'anthropic', model: 'claude-haiku-4-5' };
    const [result] = await runEvaluation({ experimentId: 'exp-7', items: [item('q', 'Capital of France?')], configs: [GPT], scorers: [{ type: 'llm_judge', judge }], caller, price: flatPrice });
    const llm = capture.spans().filter((s) => s.attributes['gen_ai.operation.name'] && s.spanContext().traceId === result!.traceId);
    const byModel = Object.fromEntries(llm.map((s) => [s.attributes['gen_ai.request.model'], s.attributes]));
    expect(byModel['gpt-4o-mini']).toMatchObject({ 'parallax.metadata.config': 'gpt' });
    expect(byModel['gpt-4o-mini']!['parallax.metadata.grading']).toBeUndefined();
    expect(byModel['claude-haiku-4-5']).toMatchObject({ 'parallax.metadata.config': 'gpt', 'parallax.metadata.grading': true });
  });

  it('sends the spans to the tracerProvider it is given, for callers that do not use init()', async () => {
    const own = captureSpans();
    const results = await runEvaluation({
      items: [item('q1', 'Hi')],
      configs: [GPT],
      tracerProvider: own.tracerProvider,
      providers: { apiKeys: { openai: 'sk-test' }, baseUrls: { openai: openai.url }, env: {} },
      price: flatPrice,
    });
    expect(own.spans().map((s) => s.name).sort()).toEqual(['chat gpt-4o-mini', 'experiment gpt']);
    expect(own.spans().every((s) => s.spanContext().traceId === results[0]!.traceId)).toBe(true);
    expect(capture.spans()).toHaveLength(0);
  });

  it('sends tools, the JSON output format and a system-prompt override the way each provider takes them', async () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    const withTools: EvalItem = {
      ...item('weather', 'Weather in Paris?'),
      input: {
        systemInstructions: [{ type: 'text', content: 'Old system prompt' }],
        messages: [{ role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] }],
        toolDefinitions: [{ type: 'function', name: 'get_weather', description: 'Weather by city', parameters: schema }],
        params: { output_type: 'json', json_schema: schema },
      },
    };
    openai.enqueue({ toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } }] });
    anthropic.enqueue({ content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }], stop_reason: 'tool_use' });
    gemini.enqueue({ functionCalls: [{ name: 'get_weather', args: { city: 'Paris' } }] });
    const override = (c: ModelConfig): ModelConfig => ({ ...c, systemPrompt: 'New system prompt' });

    const results = await runEvaluation({ items: [withTools], configs: [GPT, CLAUDE, GEMINI].map(override), caller, price: flatPrice });

    for (const r of results) {
      expect(r.error).toBeNull();
      expect(r.output).toBe('');
      expect(r.outputMessages[0]!.parts).toContainEqual(expect.objectContaining({ type: 'tool_call', name: 'get_weather', arguments: { city: 'Paris' } }));
      expect(r.outputMessages[0]!.finish_reason).toBe('tool_call');
    }
    const chat = openai.lastRequest().body;
    expect(chat.messages[0]).toEqual({ role: 'system', content: 'New system prompt' });
    expect(chat.tools).toEqual([{ type: 'function', function: { name: 'get_weather', description: 'Weather by city', parameters: schema } }]);
    expect(chat.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'output', schema } });
    const messages = anthropic.requests[0]!.body as Record<string, any>;
    expect(messages.system).toEqual([{ type: 'text', text: 'New system prompt' }]);
    expect(messages.tools).toEqual([{ name: 'get_weather', description: 'Weather by city', input_schema: schema }]);
    expect(messages.output_config).toEqual({ format: { type: 'json_schema', schema } });
    const generate = gemini.requests[0]!.body as Record<string, any>;
    expect(generate.systemInstruction).toEqual({ parts: [{ text: 'New system prompt' }] });
    expect(generate.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather by city', parametersJsonSchema: schema }] }]);
    expect(generate.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('replays a conversation with a tool call and its result in a form each provider accepts', async () => {
    const toolTurns: EvalItem = {
      id: 'tools',
      input: {
        messages: [
          { role: 'user', parts: [{ type: 'text', content: 'Weather in Paris?' }] },
          { role: 'assistant', parts: [{ type: 'tool_call', id: 'call_9', name: 'get_weather', arguments: { city: 'Paris' } }] },
          { role: 'tool', parts: [{ type: 'tool_call_response', id: 'call_9', response: '{"temp": 21}' }] },
        ],
        toolDefinitions: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      },
      expectedOutput: null,
      assertions: [],
    };
    openai.enqueue({ text: '21 °C' });
    anthropic.enqueue({ text: '21 °C' });
    gemini.enqueue({ text: '21 °C' });
    // The stand-ins refuse what the APIs refuse (an unpaired tool result, a function response out of turn): a
    // wrong replay would be an HTTP 400 here.
    const results = await runEvaluation({ items: [toolTurns], configs: [GPT, CLAUDE, GEMINI], caller, price: flatPrice });
    expect(results.map((r) => [r.output, r.error])).toEqual([
      ['21 °C', null],
      ['21 °C', null],
      ['21 °C', null],
    ]);
    expect(openai.lastRequest().body.messages.slice(1)).toEqual([
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_9', content: '{"temp": 21}' },
    ]);
    expect((anthropic.requests[0]!.body as any).messages[2]).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_9', content: '{"temp": 21}' }] });
    expect((gemini.requests[0]!.body as any).contents[2]).toEqual({ role: 'user', parts: [{ functionResponse: { id: 'call_9', name: 'get_weather', response: { temp: 21 } } }] });
  });

  it('sends an OpenAI-compatible server max_tokens and its own key, never the OpenAI key', async () => {
    const local: ModelConfig = { id: 'llama', provider: 'openai_compatible', model: 'llama3:8b', baseUrl: openai.url, params: { max_tokens: 64, top_k: 40 } };
    const compatible = createModelCaller({ env: { OPENAI_API_KEY: 'sk-secret-openai' } });
    const [result] = await runEvaluation({ items: [item('a', 'hi')], configs: [local], caller: compatible, price: () => null });
    expect(result!.error).toBeNull();
    expect(result!.costUsd).toBeNull();
    const request = openai.lastRequest();
    expect(request.body).toMatchObject({ model: 'llama3:8b', max_tokens: 64, top_k: 40 });
    expect(request.body.max_completion_tokens).toBeUndefined();
    expect(request.headers.authorization).toBe('Bearer none');
  });

  it('runs each item × configuration `repetitions` times', async () => {
    const results = await runEvaluation({ items: [item('a', 'one'), item('b', 'two')], configs: [GPT], repetitions: 3, caller, price: flatPrice });
    expect(results.map((r) => `${r.itemId}#${r.repetition}`)).toEqual(['a#0', 'a#1', 'a#2', 'b#0', 'b#1', 'b#2']);
    expect(openai.requests).toHaveLength(6);
    expect(results.every((r) => r.output === `Echo: ${r.itemId === 'a' ? 'one' : 'two'}`)).toBe(true);
  });

  it('keeps at most `concurrency` calls in flight per provider, and providers run side by side', async () => {
    let inFlight: Record<string, number> = {};
    const peak: Record<string, number> = {};
    const counting: ModelCaller = {
      ...caller,
      async call(config, input, options) {
        inFlight[config.provider] = (inFlight[config.provider] ?? 0) + 1;
        peak[config.provider] = Math.max(peak[config.provider] ?? 0, inFlight[config.provider]!);
        try {
          return await caller.call(config, input, options);
        } finally {
          inFlight[config.provider]!--;
        }
      },
    };
    for (let i = 0; i < 6; i++) openai.enqueue({ text: 'ok', delayMs: 40 });
    for (let i = 0; i < 6; i++) anthropic.enqueue({ text: 'ok', delayMs: 40 });
    const items = Array.from({ length: 6 }, (_, i) => item(`i${i}`, `q${i}`));
    const results = await runEvaluation({ items, configs: [GPT, CLAUDE], concurrency: 2, caller: counting, price: flatPrice });
    expect(results).toHaveLength(12);
    expect(peak).toEqual({ openai: 2, anthropic: 2 });
    inFlight = {};
  });

  it('reports progress after every call, with errors and cost', async () => {
    openai.enqueue({ text: 'a', usage: { input_tokens: 10, output_tokens: 0 } }, { status: 400, error: { message: 'bad', type: 'invalid_request_error' } });
    const progress: RunProgress[] = [];
    const seen: CallResult[] = [];
    await runEvaluation({ items: [item('a', 'x'), item('b', 'y')], configs: [GPT], concurrency: 1, caller, price: flatPrice, onProgress: (p) => progress.push(p), onResult: (r) => seen.push(r) });
    expect(progress).toEqual([
      { total: 2, done: 0, errors: 0, costUsd: 0 },
      { total: 2, done: 1, errors: 0, costUsd: expect.closeTo(10e-6, 12) },
      { total: 2, done: 2, errors: 1, costUsd: expect.closeTo(10e-6, 12) },
    ]);
    expect(seen.map((r) => r.itemId)).toEqual(['a', 'b']);
  });

  it('refuses to start with a missing key, a duplicate configuration id or a rubric nobody can judge', async () => {
    const noKeys = createModelCaller({ env: {} });
    await expect(runEvaluation({ items: [item('a', 'x')], configs: [GPT], caller: noKeys })).rejects.toThrow('config gpt: set OPENAI_API_KEY to call openai');
    await expect(runEvaluation({ items: [item('a', 'x')], configs: [GPT, GPT], caller })).rejects.toThrow('two configurations share the id "gpt"');
    const rubric = item('r', 'x', { assertions: [{ type: 'rubric', rubric: 'polite' }] });
    await expect(runEvaluation({ items: [rubric], configs: [GPT], caller })).rejects.toThrow('item r has a rubric assertion, and no judge model grades it');
    expect(openai.requests).toHaveLength(0);
  });

  it('accepts custom scorers written with defineScorer', async () => {
    openai.enqueue({ text: 'short' });
    const wordCount = defineScorer({
      name: 'three_words',
      score: ({ output }) => {
        const words = output.split(/\s+/).filter(Boolean).length;
        return { value: Math.min(1, words / 3), pass: words >= 3, reason: `${words} words` };
      },
    });
    const [result] = await runEvaluation({ items: [item('a', 'x')], configs: [GPT], scorers: [wordCount], caller, price: flatPrice });
    expect(result!.scores).toEqual([{ scorer: 'three_words', value: 1 / 3, pass: false, reason: '1 words' }]);
  });
});

describe('retries, timeouts and cancellation', () => {
  it('retries a 429 after the Retry-After seconds, then succeeds', async () => {
    const times: number[] = [];
    openai.enqueue(
      stamped(times, () => ({ status: 429, error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, headers: { 'retry-after': '1' } })),
      stamped(times, () => ({ text: 'finally' })),
    );
    const [result] = await runEvaluation({ items: [item('a', 'x')], configs: [GPT], caller, price: flatPrice, retries: { baseDelayMs: 10 } });
    expect(result!.error).toBeNull();
    expect(result!.output).toBe('finally');
    expect(times).toHaveLength(2);
    // Retry-After: 1 means a second, not the 10 ms backoff.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(1000);
  });

  it('honours retry-after-ms over Retry-After, and gives up when the wait is above the cap', async () => {
    const times: number[] = [];
    openai.enqueue(
      stamped(times, () => ({ status: 429, error: { message: 'slow down', type: 'requests' }, headers: { 'retry-after-ms': '300', 'retry-after': '60' } })),
      stamped(times, () => ({ text: 'ok' })),
      { status: 429, error: { message: 'slow down', type: 'requests' }, headers: { 'retry-after': '120' } },
    );
    const results = await runEvaluation({ items: [item('a', 'x'), item('b', 'y')], configs: [GPT], concurrency: 1, caller, price: flatPrice, retries: { maxDelayMs: 5000 } });
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(300);
    expect(results[0]!.output).toBe('ok');
    expect(results[1]!.error).toMatch(/^HTTP 429: .*slow down.*the provider asked to wait 120 s, more than the 5 s cap; not retried/);
    expect(openai.requests).toHaveLength(3);
  });

  it('retries 5xx answers from Anthropic and Gemini, and a dropped connection', async () => {
    anthropic.enqueue({ status: 529, error: { type: 'overloaded_error', message: 'Overloaded' } }, { text: 'claude ok' });
    gemini.enqueue({ status: 503, error: { message: 'The model is overloaded.' } }, { status: 500, error: { message: 'Internal error' } }, { text: 'gemini ok' });
    openai.enqueue({ disconnect: true }, { text: 'openai ok' });
    const results = await runEvaluation({ items: [item('a', 'x')], configs: [GPT, CLAUDE, GEMINI], caller, price: flatPrice, retries: { baseDelayMs: 5 } });
    expect(results.map((r) => [r.output, r.error])).toEqual([
      ['openai ok', null],
      ['claude ok', null],
      ['gemini ok', null],
    ]);
    expect([openai.requests.length, anthropic.requests.length, gemini.requests.length]).toEqual([2, 2, 3]);
  });

  it('does not retry a 400, and records the provider’s message', async () => {
    openai.enqueue({ status: 400, error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature' } });
    gemini.enqueue({ status: 400, error: { message: 'API key not valid.' } });
    const results = await runEvaluation({ items: [item('a', 'x')], configs: [GPT, GEMINI], caller, price: flatPrice, retries: { baseDelayMs: 5 } });
    expect(results[0]!.error).toBe("HTTP 400: 400 Invalid value for 'temperature'");
    expect(results[1]!.error).toBe('HTTP 400: API key not valid.');
    expect(openai.requests).toHaveLength(1);
    expect(gemini.requests).toHaveLength(1);
    expect(results[0]!.scores).toEqual([]);
  });

  it('stops a call that exceeds timeoutMs, a slow answer or a stalled stream, and records it as timed out', async () => {
    openai.enqueue({ text: 'late', delayMs: 20_000 }, { text: 'stalls', stallAfterEvents: 2 });
    anthropic.enqueue({ text: 'never finishes', stallAfterEvents: 2 });
    gemini.enqueue({ text: 'never finishes either', stallAfterChunks: 1 });
    const results = await runEvaluation({ items: [item('a', 'x'), item('b', 'y')], configs: [GPT, CLAUDE, GEMINI], concurrency: 1, caller, price: flatPrice, timeoutMs: 2000, scorers: [{ type: 'contains', value: 'late' }] });
    expect(results.map((r) => [r.itemId, r.configId, r.error])).toEqual([
      ['a', 'gpt', 'timed out after 2000 ms'],
      ['a', 'claude', 'timed out after 2000 ms'],
      ['a', 'gemini', 'timed out after 2000 ms'],
      ['b', 'gpt', 'timed out after 2000 ms'],
      ['b', 'claude', null],
      ['b', 'gemini', null],
    ]);
    expect(results[0]!.scores).toEqual([{ scorer: 'contains', value: 0, pass: false, reason: 'no answer: timed out after 2000 ms' }]);
    // A timeout is not retried: one request per call.
    expect(openai.requests).toHaveLength(2);
    expect(anthropic.requests).toHaveLength(2);
    expect(gemini.requests).toHaveLength(2);
  });

  it('on cancellation starts no new call, aborts the one in flight, and returns the results so far', async () => {
    const controller = new AbortController();
    openai.enqueue({ text: 'first' }, { text: 'stuck', stallAfterEvents: 1 });
    const items = Array.from({ length: 5 }, (_, i) => item(`i${i}`, `q${i}`));
    const running = runEvaluation({
      items,
      configs: [GPT],
      concurrency: 1,
      caller,
      price: flatPrice,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 1) {
          // Cancel once the second call is in flight (its request has reached the stand-in).
          const waitForSecond = setInterval(() => {
            if (openai.requests.length === 2) {
              clearInterval(waitForSecond);
              controller.abort();
            }
          }, 5);
        }
      },
    });
    const results = await running;
    expect(results.map((r) => [r.itemId, r.output])).toEqual([['i0', 'first']]);
    expect(openai.requests).toHaveLength(2);
  });

  it('cancels a retry wait too', async () => {
    const controller = new AbortController();
    openai.enqueue(() => {
      setTimeout(() => controller.abort(), 20);
      return { status: 503, error: { message: 'busy', type: 'server_error' }, headers: { 'retry-after': '25' } };
    });
    const results = await runEvaluation({ items: [item('a', 'x')], configs: [GPT], caller, price: flatPrice, signal: controller.signal });
    expect(results).toEqual([]);
    expect(openai.requests).toHaveLength(1);
  });
});
