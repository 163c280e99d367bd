import { startAnthropicServer, startGeminiServer, startOpenAIServer, type AnthropicServer, type GeminiServer, type OpenAIServer } from '@parallax/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createModelCaller, type ModelCaller } from './providers.ts';
import { runEvaluation } from './runner.ts';
import { parseVerdict, scoreCall, scoreResults, type Scorer } from './scorers.ts';
import type { CallResult, EvalItem, ModelConfig, PriceFn } from './types.ts';

let openai: OpenAIServer;
let anthropic: AnthropicServer;
let gemini: GeminiServer;
let caller: ModelCaller;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startGeminiServer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
});
beforeEach(() => {
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  gemini.requests.length = 0;
  caller = createModelCaller({
    apiKeys: { openai: 'sk-test', anthropic: 'sk-ant-test', gemini: 'gm-test' },
    baseUrls: { openai: openai.url, anthropic: anthropic.url, gemini: gemini.url },
    env: {},
  });
});

/** $1 per million input tokens, $2 per million output tokens. */
const flatPrice: PriceFn = (_call, usage) => usage.inputTokens * 1e-6 + usage.outputTokens * 2e-6;

const item: EvalItem = {
  id: 'refund',
  input: { messages: [{ role: 'user', parts: [{ type: 'text', content: 'Can I get a refund after 20 days?' }] }] },
  expectedOutput: 'Yes, refunds are accepted within 30 days.',
  assertions: [],
};

function answer(output: string, extra: Partial<CallResult> = {}): CallResult {
  return {
    itemId: item.id,
    configId: 'gpt',
    repetition: 0,
    output,
    outputMessages: [{ role: 'assistant', parts: [{ type: 'text', content: output }], finish_reason: 'stop' }],
    error: null,
    latencyMs: 850,
    ttftMs: 120,
    inputTokens: 20,
    outputTokens: 10,
    costUsd: 0.0004,
    traceId: null,
    scores: [],
    ...extra,
  };
}

const score = (scorers: Scorer[], result: CallResult, forItem: EvalItem = item) => scoreCall(forItem, result, scorers, { caller, price: flatPrice });

describe('text and JSON scorers', () => {
  it('checks the answer against the expected output, substrings, patterns, length, latency and cost', async () => {
    const result = answer('  Yes, refunds are accepted within 30 days. ');
    const scores = await score(
      [
        { type: 'exact_match' },
        { type: 'contains', value: 'REFUND', ignoreCase: true },
        { type: 'contains', value: 'store credit' },
        { type: 'not_contains', value: 'sorry' },
        { type: 'regex', pattern: '\\d+ days' },
        { type: 'length', min: 10, max: 40 },
        { type: 'latency', maxMs: 500 },
        { type: 'cost', maxUsd: 0.001 },
      ],
      result,
    );
    expect(scores.map((s) => [s.scorer, s.pass, s.reason])).toEqual([
      ['exact_match', true, 'matches the expected output'],
      ['contains', true, 'contains "REFUND"'],
      ['contains', false, 'does not contain "store credit": "Yes, refunds are accepted within 30 days."'],
      ['not_contains', true, 'does not contain "sorry"'],
      ['regex', true, 'matches /\\d+ days/'],
      ['length', false, '44 characters, outside 10..40'],
      ['latency', false, '850 ms > 500 ms'],
      ['cost', true, '$0.000400 ≤ $0.00100'],
    ]);
  });

  it('fails cost when the model has no price, and exact match when the item has no expected output', async () => {
    const scores = await score([{ type: 'cost', maxUsd: 1 }, { type: 'exact_match' }], answer('hi', { costUsd: null }), { ...item, expectedOutput: null });
    expect(scores.map((s) => [s.pass, s.reason])).toEqual([
      [false, 'cost unknown: the model has no known price'],
      [false, 'the item has no expected output to match'],
    ]);
  });

  it('validates JSON and a JSON schema, saying what is wrong', async () => {
    const schema = { type: 'object', properties: { refund: { type: 'boolean' }, days: { type: 'integer' } }, required: ['refund', 'days'] };
    const good = await score([{ type: 'is_json' }, { type: 'json_schema', schema }], answer('{"refund": true, "days": 30}'));
    expect(good.map((s) => s.pass)).toEqual([true, true]);
    const wrong = await score([{ type: 'is_json' }, { type: 'json_schema', schema }], answer('{"refund": "yes"}'));
    expect(wrong[0]!.pass).toBe(true);
    expect(wrong[1]).toMatchObject({ pass: false, value: 0 });
    expect(wrong[1]!.reason).toContain("must have required property 'days'");
    expect(wrong[1]!.reason).toContain('/refund must be boolean');
    const prose = await score([{ type: 'is_json' }], answer('Sure! {"refund": true}'));
    expect(prose[0]!.pass).toBe(false);
    expect(prose[0]!.reason).toMatch(/^not JSON \(/);
  });

  it('scores the item’s assertions as assertion:<type>', async () => {
    const withAssertions: EvalItem = {
      ...item,
      assertions: [
        { type: 'equals', value: 'yes', ignoreCase: true },
        { type: 'contains', value: '30 days' },
        { type: 'not_contains', value: 'Yes' },
        { type: 'regex', pattern: '^yes', flags: 'i' },
        { type: 'is_json' },
        { type: 'max_length', value: 3 },
      ],
    };
    const scores = await score([], answer('Yes'), withAssertions);
    expect(scores.map((s) => [s.scorer, s.pass])).toEqual([
      ['assertion:equals', true],
      ['assertion:contains', false],
      ['assertion:not_contains', false],
      ['assertion:regex', true],
      ['assertion:is_json', false],
      ['assertion:max_length', true],
    ]);
  });

  it('fails every score of a call that has no answer, saying why', async () => {
    const scores = await score([{ type: 'not_contains', value: 'x' }], answer('', { error: 'HTTP 500: boom' }), { ...item, assertions: [{ type: 'is_json' }] });
    expect(scores).toEqual([
      { scorer: 'not_contains', value: 0, pass: false, reason: 'no answer: HTTP 500: boom' },
      { scorer: 'assertion:is_json', value: 0, pass: false, reason: 'no answer: HTTP 500: boom' },
    ]);
  });
});

describe('LLM judge', () => {
  const claudeJudge: ModelConfig = { id: 'judge', provider: 'anthropic', model: 'claude-haiku-4-5' };

  it('reads a verdict Claude puts in a ```json fence after thinking, and records the judge’s cost', async () => {
    anthropic.enqueue({
      content: [
        { type: 'thinking', thinking: 'The policy allows 30 days; 20 < 30.', signature: 'sig' },
        { type: 'text', text: 'Here is my assessment.\n\n```json\n{"score": 0.9, "pass": true, "reason": "Correct and polite."}\n```' },
      ],
      usage: { input_tokens: 300, output_tokens: 40 },
    });
    const [verdict] = await score([{ type: 'llm_judge', rubric: 'The answer must state the 30-day refund window.', judge: claudeJudge }], answer('Yes, within 30 days.'));
    expect(verdict).toEqual({
      scorer: 'llm_judge',
      value: 0.9,
      pass: true,
      reason: 'judge anthropic:claude-haiku-4-5: Correct and polite. (score 0.9)',
      costUsd: expect.closeTo(300e-6 + 80e-6, 12),
    });
    // What the judge was asked: the conversation, the rubric, the reference and the answer, with a JSON reply format.
    const request = anthropic.requests[0]!.body as Record<string, any>;
    const prompt = request.messages[0].content[0].text as string;
    expect(prompt).toContain('[user] Can I get a refund after 20 days?');
    expect(prompt).toContain('## Rubric\n\nThe answer must state the 30-day refund window.');
    expect(prompt).toContain('## Expected answer\n\nYes, refunds are accepted within 30 days.');
    expect(prompt).toContain('## Answer to grade\n\nYes, within 30 days.');
    expect(request.system[0].text).toContain('{"score": <number from 0 to 1>, "pass": <true or false>');
  });

  it('reads a verdict an OpenAI judge wraps in prose, and applies the threshold over the judge’s own pass', async () => {
    openai.enqueue({ text: 'I would rate this {"score": 0.6, "pass": true, "reason": "Mostly right, vague on the window."} overall.', usage: { input_tokens: 200, output_tokens: 30 } });
    const judge: ModelConfig = { id: 'j', provider: 'openai', model: 'gpt-4o-mini', params: { temperature: 0 } };
    const [verdict] = await score([{ type: 'llm_judge', judge, threshold: 0.7 }], answer('Probably yes.'));
    expect(verdict).toMatchObject({ value: 0.6, pass: false, reason: 'judge openai:gpt-4o-mini: Mostly right, vague on the window. (score 0.6)' });
    expect(openai.lastRequest().body).toMatchObject({ model: 'gpt-4o-mini', stream: true, temperature: 0 });
  });

  it('reads a Gemini judge’s JSON after its thought parts', async () => {
    gemini.enqueue({ parts: [{ text: 'Weighing the answer…', thought: true }, { text: '{"score": 0, "pass": false, "reason": "Wrong window."}' }] });
    const judge: ModelConfig = { id: 'j', provider: 'gemini', model: 'gemini-2.5-flash' };
    const [verdict] = await score([{ type: 'llm_judge', judge }], answer('No refunds.'));
    expect(verdict).toMatchObject({ value: 0, pass: false, reason: 'judge gemini:gemini-2.5-flash: Wrong window. (score 0)' });
  });

  it('fails the score, keeping the judge’s words, when there is no usable verdict', async () => {
    anthropic.enqueue({ text: 'The answer is fine, I think.' }, { text: '{"score": 8, "reason": "out of 10"}' });
    const [none] = await score([{ type: 'llm_judge', judge: claudeJudge }], answer('Yes.'));
    expect(none).toMatchObject({ pass: false, value: 0 });
    expect(none!.reason).toBe('judge anthropic:claude-haiku-4-5 gave no usable verdict (no JSON object in the answer): "The answer is fine, I think."');
    const [outOfRange] = await score([{ type: 'llm_judge', judge: claudeJudge }], answer('Yes.'));
    expect(outOfRange!.reason).toContain('score 8 is outside 0..1');
  });

  it('grades rubric assertions with the judge, retrying it like any call', async () => {
    anthropic.enqueue({ status: 529, error: { type: 'overloaded_error', message: 'Overloaded' } }, { text: '{"pass": true, "reason": "Polite."}' });
    const rubric: EvalItem = { ...item, assertions: [{ type: 'rubric', rubric: 'Is polite' }] };
    const scores = await scoreCall(rubric, answer('Yes, gladly.'), [], { caller, price: flatPrice, judge: claudeJudge, retries: { baseDelayMs: 5 } });
    expect(scores).toEqual([{ scorer: 'assertion:rubric', value: 1, pass: true, reason: 'judge anthropic:claude-haiku-4-5: Polite. (score 1)', costUsd: expect.any(Number) }]);
    expect(anthropic.requests).toHaveLength(2);
  });

  it('parses verdicts robustly', () => {
    expect(parseVerdict('{"score": 1, "pass": true, "reason": "ok"}')).toEqual({ ok: true, score: 1, pass: true, reason: 'ok' });
    expect(parseVerdict('```\n{"score": "0.25", "pass": "false"}\n```')).toEqual({ ok: true, score: 0.25, pass: false, reason: '' });
    expect(parseVerdict('Verdict: {"reason": "uses a brace } in text", "score": 0.5} done')).toEqual({ ok: true, score: 0.5, pass: undefined, reason: 'uses a brace } in text' });
    expect(parseVerdict('{"note": "x"} then {"pass": false}')).toEqual({ ok: true, score: 0, pass: false, reason: '' });
    expect(parseVerdict('no json')).toEqual({ ok: false, error: 'no JSON object in the answer' });
  });
});

describe('semantic similarity', () => {
  it('compares OpenAI embeddings of the answer and the expected output by cosine', async () => {
    // cos((1,0,0), (0.6,0.8,0)) = 0.6 / (1 · 1) = 0.6.
    openai.enqueue({ embeddings: [[1, 0, 0], [0.6, 0.8, 0]], usage: { input_tokens: 30 } });
    const [s] = await score([{ type: 'semantic_similarity', provider: 'openai', model: 'text-embedding-3-small', threshold: 0.5 }], answer('Yes, 30 days.'));
    expect(s).toEqual({ scorer: 'semantic_similarity', value: expect.closeTo(0.6, 6), pass: true, reason: 'cosine similarity 0.600 ≥ 0.5', costUsd: expect.closeTo(30e-6, 12) });
    expect(openai.lastRequest()).toMatchObject({ path: '/v1/embeddings', body: { model: 'text-embedding-3-small', input: ['Yes, 30 days.', 'Yes, refunds are accepted within 30 days.'] } });
  });

  it('retries a rate-limited embedding request, and fails the score with the provider’s message on a 400', async () => {
    openai.enqueue(
      { status: 429, error: { message: 'Rate limit', type: 'requests' }, headers: { 'retry-after-ms': '20' } },
      { embeddings: [[1, 0], [1, 0]] },
      { status: 400, error: { message: "This model's maximum context length is 8192 tokens", type: 'invalid_request_error' } },
    );
    const spec: Scorer = { type: 'semantic_similarity', provider: 'openai', model: 'text-embedding-3-small', threshold: 0.9 };
    const [retried] = await score([spec], answer('Yes.'));
    expect(retried).toMatchObject({ pass: true, value: 1 });
    const [refused] = await score([spec], answer('Yes.'));
    expect(refused).toMatchObject({ pass: false, reason: "embedding with openai:text-embedding-3-small failed: HTTP 400: 400 This model's maximum context length is 8192 tokens" });
    expect(openai.requests).toHaveLength(3);
  });

  it('uses Gemini embeddings through @google/genai', async () => {
    // cos((1,1,0,0), (1,0,0,0)) = 1 / (√2 · 1) ≈ 0.7071 < 0.8.
    gemini.enqueue({ embeddings: [[1, 1, 0, 0], [1, 0, 0, 0]] });
    const [s] = await score([{ type: 'semantic_similarity', provider: 'gemini', model: 'gemini-embedding-001', threshold: 0.8 }], answer('Sure.'));
    expect(s).toMatchObject({ value: expect.closeTo(Math.SQRT1_2, 6), pass: false, reason: 'cosine similarity 0.707 < 0.8' });
    expect(gemini.requests[0]!.model).toBe('gemini-embedding-001');
  });
});

describe('rescoring', () => {
  it('scores stored results again without calling the models under test', async () => {
    openai.enqueue({ text: 'Refunds within 30 days.' }, { text: 'No.' });
    const items: EvalItem[] = [item, { ...item, id: 'other' }];
    const gpt: ModelConfig = { id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' };
    const first = await runEvaluation({ items, configs: [gpt], scorers: [{ type: 'contains', value: 'refund', ignoreCase: true }], caller, price: flatPrice });
    expect(first.map((r) => r.scores[0]!.pass)).toEqual([true, false]);
    const requestsBefore = openai.requests.length;

    const rescored = await scoreResults(first, items, [{ type: 'regex', pattern: '^No' }, { type: 'length', max: 5 }], { caller, price: flatPrice });
    expect(openai.requests.length).toBe(requestsBefore);
    expect(anthropic.requests.length + gemini.requests.length).toBe(0);
    expect(rescored.map((r) => r.scores.map((s) => [s.scorer, s.pass]))).toEqual([
      [['regex', false], ['length', false]],
      [['regex', true], ['length', true]],
    ]);
    // Everything else about the calls is kept as it was.
    expect(rescored.map(({ scores: _, ...rest }) => rest)).toEqual(first.map(({ scores: _, ...rest }) => rest));
  });

  it('refuses results whose item is not in the dataset given', async () => {
    await expect(scoreResults([answer('x', { itemId: 'gone' })], [item], [{ type: 'is_json' }], { caller })).rejects.toThrow('result for item gone (config gpt) has no item in the dataset given');
  });
});
