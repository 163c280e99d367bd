// End to end: each convention's spans sent as OTLP/JSON to a real collector (embedded ClickHouse), read
// back through the JSON API. One collector for the file: a data directory belongs to one process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LlmDetails, SpanDetail, TraceResponse } from '../../api/contract.ts';
import { startTestCollector, type TestCollector } from '../../test-support.ts';
import { ANSWER, expectedInput, expectedOutput, expectedSystem, expectedTools, TOOL_SCHEMA } from './weather.fixture.ts';

let collector: TestCollector;
beforeAll(async () => {
  collector = await startTestCollector();
});
afterAll(async () => {
  await collector.close();
});

type Value = string | number | boolean | Value[] | { [key: string]: Value };
interface SpanSpec {
  name: string;
  parent?: string;
  attributes: Record<string, Value>;
  events?: { name: string; attributes: Record<string, Value> }[];
}

let traceCounter = 0;
/** POSTs one trace as OTLP/JSON under `scope` and returns its spans as the API shows them, by name. */
async function ingest(scope: string, spans: SpanSpec[]): Promise<Map<string, SpanDetail>> {
  const traceId = (0xc0ffee00 + ++traceCounter).toString(16).padStart(32, '0');
  const ids = new Map(spans.map((s, i) => [s.name, (i + 1).toString(16).padStart(16, '0')]));
  const body = {
    resourceSpans: [
      {
        resource: { attributes: keyValues({ 'service.name': 'conventions-e2e' }) },
        scopeSpans: [
          {
            scope: { name: scope },
            spans: spans.map((s, i) => ({
              traceId,
              spanId: ids.get(s.name),
              parentSpanId: s.parent ? ids.get(s.parent) : undefined,
              name: s.name,
              kind: 3,
              startTimeUnixNano: String(1_767_225_600_000_000_000n + BigInt(i) * 1_000_000n),
              endTimeUnixNano: String(1_767_225_601_000_000_000n),
              attributes: keyValues(s.attributes),
              events: (s.events ?? []).map((e) => ({ name: e.name, timeUnixNano: '1767225600500000000', attributes: keyValues(e.attributes) })),
            })),
          },
        ],
      },
    ],
  };
  const response = await fetch(`${collector.url}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${collector.apiKey}` },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  const { status, body: trace } = await collector.api<TraceResponse>(`/api/v1/traces/${traceId}`);
  expect(status).toBe(200);
  return new Map(trace.trace.spans.map((s) => [s.name, s]));
}

function keyValues(attributes: Record<string, Value>) {
  return Object.entries(attributes).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: Value): unknown {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  if (Array.isArray(value)) return { arrayValue: { values: value.map(anyValue) } };
  return { kvlistValue: { values: keyValues(value) } };
}

function llmOf(spans: Map<string, SpanDetail>, name: string): LlmDetails {
  const llm = spans.get(name)?.llm;
  expect(llm, `${name} is an LLM call`).toBeTruthy();
  return llm!;
}

describe('GenAI conventions through ingest', () => {
  it('GenAI conventions 1.2x: gen_ai.system, prompt/completion tokens, per-message span events', async () => {
    const spans = await ingest('opentelemetry.instrumentation.openai_v2', [
      {
        name: 'chat gpt-4o',
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.system': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.prompt_tokens': 1200,
          'gen_ai.usage.completion_tokens': 20,
          'gen_ai.response.finish_reasons': ['stop'],
        },
        events: [
          { name: 'gen_ai.system.message', attributes: { content: 'You are a weather bot.' } },
          { name: 'gen_ai.user.message', attributes: { content: 'Weather in Paris?' } },
          {
            name: 'gen_ai.assistant.message',
            attributes: { content: 'Let me check.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          },
          { name: 'gen_ai.tool.message', attributes: { content: '18°C, sunny', id: 'call_1' } },
          { name: 'gen_ai.choice', attributes: { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: ANSWER } } },
        ],
      },
    ]);
    const llm = llmOf(spans, 'chat gpt-4o');
    expect(llm).toMatchObject({ provider: 'openai', requestModel: 'gpt-4o', inputTokens: 1200, outputTokens: 20, finishReasons: ['stop'] });
    expect(llm.cost).not.toBeNull();
    expect(llm.systemInstructions).toEqual(expectedSystem);
    expect(llm.inputMessages).toEqual(expectedInput('call_1'));
    expect(llm.outputMessages).toEqual(expectedOutput);
  });

  it('OpenLLMetry (JS Anthropic): cache tokens added to input, workflow span not a call', async () => {
    const spans = await ingest('@traceloop/instrumentation-anthropic', [
      { name: 'weather.workflow', attributes: { 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'weather' } },
      {
        name: 'anthropic.chat',
        parent: 'weather.workflow',
        attributes: {
          'gen_ai.system': 'Anthropic',
          'llm.request.type': 'chat',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'gen_ai.prompt.0.role': 'user',
          'gen_ai.prompt.0.content': 'Weather in Paris?',
          'gen_ai.response.model': 'claude-sonnet-4-5-20250929',
          'gen_ai.usage.prompt_tokens': 2003,
          'gen_ai.usage.completion_tokens': 20,
          'llm.usage.total_tokens': 2023,
          'gen_ai.usage.cache_read_input_tokens': 1000,
          'gen_ai.usage.cache_creation_input_tokens': 200,
          'gen_ai.completion.0.finish_reason': 'end_turn',
          'gen_ai.completion.0.role': 'assistant',
          'gen_ai.completion.0.content': JSON.stringify([{ type: 'text', text: ANSWER }]),
        },
      },
    ]);
    expect(spans.get('weather.workflow')?.llm).toBeNull();
    const llm = llmOf(spans, 'anthropic.chat');
    expect(llm).toMatchObject({ provider: 'anthropic', inputTokens: 3203, outputTokens: 20, cacheReadTokens: 1000, cacheWriteTokens: 200 });
    expect(llm.cost).not.toBeNull();
    expect(llm.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(llm.outputMessages).toEqual(expectedOutput);
  });

  it('OpenInference: LLM span read, CHAIN span not a call', async () => {
    const spans = await ingest('openinference.instrumentation.openai', [
      { name: 'RunnableSequence', attributes: { 'openinference.span.kind': 'CHAIN', 'input.value': 'Weather in Paris?', 'llm.token_count.prompt': 1200 } },
      {
        name: 'ChatCompletion',
        parent: 'RunnableSequence',
        attributes: {
          'openinference.span.kind': 'LLM',
          'llm.provider': 'openai',
          'llm.system': 'openai',
          'llm.model_name': 'gpt-4o-2024-08-06',
          'llm.input_messages.0.message.role': 'system',
          'llm.input_messages.0.message.content': 'You are a weather bot.',
          'llm.input_messages.1.message.role': 'user',
          'llm.input_messages.1.message.content': 'Weather in Paris?',
          'llm.input_messages.2.message.role': 'assistant',
          'llm.input_messages.2.message.content': 'Let me check.',
          'llm.input_messages.2.message.tool_calls.0.tool_call.id': 'call_1',
          'llm.input_messages.2.message.tool_calls.0.tool_call.function.name': 'get_weather',
          'llm.input_messages.2.message.tool_calls.0.tool_call.function.arguments': '{"city":"Paris"}',
          'llm.input_messages.3.message.role': 'tool',
          'llm.input_messages.3.message.content': '18°C, sunny',
          'llm.input_messages.3.message.tool_call_id': 'call_1',
          'llm.output_messages.0.message.role': 'assistant',
          'llm.output_messages.0.message.content': ANSWER,
          'llm.tools.0.tool.json_schema': JSON.stringify({ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: TOOL_SCHEMA } }),
          'llm.token_count.prompt': 1200,
          'llm.token_count.completion': 20,
          'llm.token_count.prompt_details.cache_read': 1024,
        },
      },
    ]);
    expect(spans.get('RunnableSequence')?.llm).toBeNull();
    const llm = llmOf(spans, 'ChatCompletion');
    expect(llm).toMatchObject({ provider: 'openai', requestModel: 'gpt-4o-2024-08-06', inputTokens: 1200, outputTokens: 20, cacheReadTokens: 1024 });
    expect(llm.cost).not.toBeNull();
    expect(llm.systemInstructions).toEqual(expectedSystem);
    expect(llm.inputMessages).toEqual(expectedInput('call_1'));
    expect(llm.toolDefinitions).toEqual(expectedTools);
  });

  it('Vercel AI SDK: the doGenerate span is the call, the outer generateText span is not', async () => {
    const base = { 'ai.model.id': 'claude-sonnet-4-5', 'ai.model.provider': 'anthropic.messages', 'ai.telemetry.metadata.sessionId': 'session-1' };
    const spans = await ingest('ai', [
      { name: 'ai.generateText', attributes: { ...base, 'ai.operationId': 'ai.generateText', 'ai.usage.inputTokens': 3, 'ai.usage.outputTokens': 20, 'ai.response.text': ANSWER } },
      {
        name: 'ai.generateText.doGenerate',
        parent: 'ai.generateText',
        attributes: {
          ...base,
          'ai.operationId': 'ai.generateText.doGenerate',
          'ai.prompt.messages': JSON.stringify([
            { role: 'system', content: 'You are a weather bot.' },
            { role: 'user', content: [{ type: 'text', text: 'Weather in Paris?' }] },
          ]),
          'ai.prompt.tools': [JSON.stringify({ type: 'function', name: 'get_weather', description: 'Current weather', inputSchema: TOOL_SCHEMA })],
          'ai.response.finishReason': 'stop',
          'ai.response.text': ANSWER,
          'ai.response.model': 'claude-sonnet-4-5-20250929',
          'ai.response.providerMetadata': JSON.stringify({ anthropic: { cacheCreationInputTokens: 200 } }),
          'ai.usage.inputTokens': 3,
          'ai.usage.outputTokens': 20,
          'ai.usage.cachedInputTokens': 1000,
          'gen_ai.system': 'anthropic.messages',
          'gen_ai.request.model': 'claude-sonnet-4-5',
          'gen_ai.usage.input_tokens': 3,
          'gen_ai.usage.output_tokens': 20,
        },
      },
    ]);
    expect(spans.get('ai.generateText')?.llm).toBeNull();
    const llm = llmOf(spans, 'ai.generateText.doGenerate');
    expect(llm).toMatchObject({ provider: 'anthropic', requestModel: 'claude-sonnet-4-5', inputTokens: 1203, cacheReadTokens: 1000, cacheWriteTokens: 200 });
    expect(llm.cost).not.toBeNull();
    expect(llm.systemInstructions).toEqual(expectedSystem);
    expect(llm.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(llm.outputMessages).toEqual(expectedOutput);
    expect(llm.toolDefinitions).toEqual(expectedTools);
  });

  it('Logfire / Pydantic AI: messages from the events attribute, agent run span not a call', async () => {
    const events = [
      { content: 'You are a weather bot.', role: 'system', 'event.name': 'gen_ai.system.message' },
      { content: 'Weather in Paris?', role: 'user', 'event.name': 'gen_ai.user.message' },
      { index: 0, message: { role: 'assistant', content: ANSWER }, finish_reason: 'stop', 'event.name': 'gen_ai.choice' },
    ];
    const spans = await ingest('pydantic-ai', [
      { name: 'agent run', attributes: { model_name: 'gpt-4o', agent_name: 'weather', 'logfire.msg': 'weather run', 'gen_ai.usage.input_tokens': 1200 } },
      {
        name: 'chat gpt-4o',
        parent: 'agent run',
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.system': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 1200,
          'gen_ai.usage.output_tokens': 20,
          'logfire.msg': 'chat gpt-4o',
          'logfire.span_type': 'span',
          events: JSON.stringify(events),
        },
      },
    ]);
    expect(spans.get('agent run')?.llm).toBeNull();
    const llm = llmOf(spans, 'chat gpt-4o');
    expect(llm).toMatchObject({ provider: 'openai', inputTokens: 1200, outputTokens: 20, finishReasons: ['stop'] });
    expect(llm.cost).not.toBeNull();
    expect(llm.systemInstructions).toEqual(expectedSystem);
    expect(llm.inputMessages).toEqual([expectedInput('x')[0]]);
    expect(llm.outputMessages).toEqual(expectedOutput);
  });
});
