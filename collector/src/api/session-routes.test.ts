import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../store/projects.ts';
import { chatAttributes, exportThroughOtlp, startTestCollector, type TestCollector } from '../test-support.ts';
import type { ApiError, SessionResponse } from './contract.ts';

let collector: TestCollector;
let otherProjectKey: string;
/** The session's traces, oldest first. */
const traceIds: string[] = [];
const SESSION = 'chat/42 with spaces & <b>';

const text = (role: string, content: string) => ({ role, parts: [{ type: 'text', content }] });

/** One LLM call under `parent`, with the conversation it was sent and what it answered. */
function llmCall(
  tracer: Tracer,
  parent: ReturnType<Tracer['startSpan']>,
  start: number,
  call: { model: string; provider?: string; input: object[]; output: object[]; inputTokens: number; outputTokens: number; session?: string },
) {
  const span = tracer.startSpan(
    `chat ${call.model}`,
    {
      kind: SpanKind.CLIENT,
      startTime: start,
      attributes: {
        ...chatAttributes({ provider: call.provider, model: call.model, inputTokens: call.inputTokens, outputTokens: call.outputTokens }),
        'gen_ai.input.messages': JSON.stringify(call.input),
        'gen_ai.output.messages': JSON.stringify(call.output),
        'session.id': call.session ?? SESSION,
        'user.id': 'user-9',
      },
    },
    trace.setSpan(context.active(), parent),
  );
  span.end(start + 100);
}

beforeAll(async () => {
  collector = await startTestCollector();
  const other = await collector.projects.createProject('Other team');
  otherProjectKey = generateKey();
  await collector.projects.addKey(other.id, otherProjectKey, { name: 'other', scope: 'full' });

  const now = Date.now();
  await exportThroughOtlp(collector.url, collector.apiKey, (tracer) => {
    // Three days ago, well outside any default time range: the session page still shows it.
    const old = tracer.startSpan('chat turn', { startTime: now - 3 * 24 * 3600_000 });
    traceIds.push(old.spanContext().traceId);
    llmCall(tracer, old, now - 3 * 24 * 3600_000 + 1, {
      model: 'gpt-4o-mini',
      input: [text('user', 'Hi, I lost my parcel.')],
      output: [text('assistant', 'Sorry to hear that. What is the order number?')],
      inputTokens: 1000,
      outputTokens: 100,
    });
    old.end(now - 3 * 24 * 3600_000 + 200);

    // An agent turn: the model calls a tool, then answers with its result.
    const agent = tracer.startSpan('chat turn', { startTime: now - 60_000 });
    traceIds.push(agent.spanContext().traceId);
    const history = [text('user', 'Hi, I lost my parcel.'), text('assistant', 'Sorry to hear that. What is the order number?'), text('user', 'It is A-17.')];
    const toolCall = { role: 'assistant', parts: [{ type: 'tool_call', id: 'c1', name: 'track', arguments: { order: 'A-17' } }] };
    llmCall(tracer, agent, now - 60_000 + 1, { model: 'gpt-4o-mini', input: history, output: [toolCall], inputTokens: 2000, outputTokens: 20 });
    llmCall(tracer, agent, now - 60_000 + 150, {
      model: 'gpt-4o-mini',
      input: [...history, toolCall, { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: { status: 'in transit' } }] }],
      output: [text('assistant', 'Your parcel A-17 is in transit.')],
      inputTokens: 3000,
      outputTokens: 30,
    });
    agent.end(now - 60_000 + 300);

    // The last turn went to another model.
    const last = tracer.startSpan('chat turn', { startTime: now - 30_000 });
    traceIds.push(last.spanContext().traceId);
    llmCall(tracer, last, now - 30_000 + 1, {
      model: 'claude-haiku-4-5',
      provider: 'anthropic',
      input: [text('user', 'Thanks!')],
      output: [text('assistant', 'You are welcome.')],
      inputTokens: 500,
      outputTokens: 10,
    });
    last.end(now - 30_000 + 200);

    // Another session of the same project stays out.
    const elsewhere = tracer.startSpan('chat turn', { startTime: now - 20_000 });
    llmCall(tracer, elsewhere, now - 20_000 + 1, { model: 'gpt-4o', input: [text('user', 'other')], output: [], inputTokens: 1, outputTokens: 1, session: 'another' });
    elsewhere.end(now - 20_000 + 200);
  });
  // Another project uses the same session id for its own conversation.
  await exportThroughOtlp(collector.url, otherProjectKey, (tracer) => {
    const root = tracer.startSpan('chat turn');
    llmCall(tracer, root, Date.now(), { model: 'gpt-4o', input: [text('user', 'secret of team B')], output: [], inputTokens: 1, outputTokens: 1 });
    root.end();
  });
});

afterAll(async () => {
  await collector?.close();
});

const sessionPath = (id: string, query = '') => `/api/v1/sessions/${encodeURIComponent(id)}${query}`;

describe('GET /api/v1/sessions/:sessionId', () => {
  it("sums the whole session, older than any time range, with each model's calls and cost", async () => {
    const { status, body } = await collector.api<SessionResponse>(sessionPath(SESSION));
    expect(status).toBe(200);
    expect(body.session).toMatchObject({ sessionId: SESSION, userId: 'user-9', traces: 3, llmCalls: 4, errors: 0, inputTokens: 6500, outputTokens: 160 });
    // gpt-4o-mini: $0.15/M in, $0.60/M out; claude-haiku-4-5: $1/M in, $5/M out
    const mini = (6000 * 0.15 + 150 * 0.6) / 1e6;
    const haiku = (500 * 1 + 10 * 5) / 1e6;
    expect(body.session.cost).toBeCloseTo(mini + haiku, 12);
    const models = Object.fromEntries(body.models.map((m) => [m.model, m]));
    expect(Object.keys(models).sort()).toEqual(['claude-haiku-4-5', 'gpt-4o-mini']);
    expect(models['gpt-4o-mini']).toMatchObject({ provider: 'openai', calls: 3 });
    expect(models['gpt-4o-mini']!.cost).toBeCloseTo(mini, 12);
    expect(models['claude-haiku-4-5']).toMatchObject({ provider: 'anthropic', calls: 1 });
    expect(Date.parse(body.session.lastSeen) - Date.parse(body.session.firstSeen)).toBeGreaterThan(3 * 24 * 3600_000 - 60_000);
  });

  it('gives the traces oldest first, each LLM call with only what it added to the conversation', async () => {
    const { body } = await collector.api<SessionResponse>(sessionPath(SESSION));
    expect(body.traces.map((t) => t.traceId)).toEqual(traceIds);
    expect(body.nextCursor).toBeNull();
    const [old, agent, last] = body.traces;
    expect(old!.turns).toHaveLength(1);
    expect(old!.turns[0]).toMatchObject({
      model: 'gpt-4o-mini',
      provider: 'openai',
      newInput: [text('user', 'Hi, I lost my parcel.')],
      earlierMessages: 0,
      output: [text('assistant', 'Sorry to hear that. What is the order number?')],
      inputTokens: 1000,
      outputTokens: 100,
    });
    expect(old!.turns[0]!.cost).toBeCloseTo((1000 * 0.15 + 100 * 0.6) / 1e6, 12);
    // The agent's history is not repeated: the first call adds the user's new message, the second the tool's result.
    expect(agent!.llmCalls).toBe(2);
    expect(agent!.turns.map((t) => [t.earlierMessages, t.newInput.map((m) => m.role)])).toEqual([
      [2, ['user']],
      [4, ['tool']],
    ]);
    expect(agent!.turns[0]!.newInput[0]).toEqual(text('user', 'It is A-17.'));
    expect(agent!.turns[0]!.output?.[0]?.parts[0]).toMatchObject({ type: 'tool_call', name: 'track' });
    expect(agent!.turns[1]!.output).toEqual([text('assistant', 'Your parcel A-17 is in transit.')]);
    expect(last!.turns[0]).toMatchObject({ model: 'claude-haiku-4-5', provider: 'anthropic', newInput: [text('user', 'Thanks!')] });
  });

  it('pages through the traces with a cursor, each once and in order', async () => {
    const first = await collector.api<SessionResponse>(sessionPath(SESSION, '?limit=2'));
    expect(first.body.traces.map((t) => t.traceId)).toEqual(traceIds.slice(0, 2));
    expect(first.body.nextCursor).not.toBeNull();
    const second = await collector.api<SessionResponse>(sessionPath(SESSION, `?limit=2&cursor=${first.body.nextCursor}`));
    expect(second.body.traces.map((t) => t.traceId)).toEqual(traceIds.slice(2));
    expect(second.body.nextCursor).toBeNull();
    // Totals are the whole session's on every page.
    expect(second.body.session.llmCalls).toBe(4);
  });

  it('refuses a forged cursor and a bad limit with 400 naming the parameter', async () => {
    const forged = await collector.api<ApiError>(sessionPath(SESSION, `?cursor=${Buffer.from('["x"]').toString('base64url')}`));
    expect(forged.status).toBe(400);
    expect(forged.body.error.message).toContain('"cursor"');
    const limit = await collector.api<ApiError>(sessionPath(SESSION, '?limit=0'));
    expect(limit.status).toBe(400);
    expect(limit.body.error.message).toContain('"limit"');
  });

  it('answers 404 for a session the project does not have', async () => {
    const missing = await collector.api<ApiError>(sessionPath('no-such-session'));
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toContain('no-such-session');
  });

  it("shows each project only its own session of that id, and needs a full-access key", async () => {
    const other = await collector.api<SessionResponse>(sessionPath(SESSION), otherProjectKey);
    expect(other.status).toBe(200);
    expect(other.body.session).toMatchObject({ traces: 1, llmCalls: 1 });
    expect(other.body.traces[0]!.turns[0]!.newInput).toEqual([text('user', 'secret of team B')]);
    expect((await fetch(`${collector.url}${sessionPath(SESSION)}`)).status).toBe(401);
    const ingestKey = generateKey();
    await collector.projects.addKey('default', ingestKey, { name: 'ingest', scope: 'ingest' });
    expect((await collector.api(sessionPath(SESSION), ingestKey)).status).toBe(403);
  });
});
