// Scores one answer: every scorer of the run and every assertion of the item (scored as `assertion:<type>`).
// Each score keeps its reason, so a failing CI job says why. Judge and embedding calls go through the same
// providers and retries as the calls under test, and their cost is recorded on the score.
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { MessagePart } from '../adapters/messages.ts';
import { defaultPrice, priceOf } from './pricing.ts';
import { ConfigProblem, createModelCaller, ModelCallError, type ModelCaller, type ProviderOptions } from './providers.ts';
import { callWithRetries, withRetries, type RetryPolicy } from './retry.ts';
import type { Assertion, CallResult, EvalItem, ModelConfig, PriceFn, Score, ScorerSpec } from './types.ts';

/** What a scorer sees. */
export interface ScoreContext {
  item: EvalItem;
  /** The call being scored (its `scores` are not filled in yet). */
  result: CallResult;
  output: string;
  expectedOutput: string | null;
  signal?: AbortSignal;
}

/** A scorer written in TypeScript. Its `scorer` name is filled in when the score leaves it out. */
export interface CustomScorer {
  kind: 'custom';
  name: string;
  score(ctx: ScoreContext): ScoreValue | Promise<ScoreValue>;
}

export type ScoreValue = Omit<Score, 'scorer'> & { scorer?: string };

export type Scorer = ScorerSpec | CustomScorer;

export function defineScorer(definition: { name: string; score: (ctx: ScoreContext) => ScoreValue | Promise<ScoreValue> }): CustomScorer {
  if (!definition.name) throw new TypeError('defineScorer: a scorer needs a name');
  if (typeof definition.score !== 'function') throw new TypeError(`defineScorer: scorer ${definition.name} needs a score(ctx) function`);
  return { kind: 'custom', name: definition.name, score: definition.score };
}

export interface ScoringOptions {
  /** Calls judges and embedding models; made from `providers` when absent. */
  caller?: ModelCaller;
  providers?: ProviderOptions;
  /** Prices judge and embedding calls. Default: @pydantic/genai-prices. */
  price?: PriceFn;
  /** Grades items' `rubric` assertions. Default: the judge of the first llm_judge scorer. */
  judge?: ModelConfig;
  retries?: RetryPolicy;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The scorer's name as scores and reports show it. */
export function scorerName(scorer: Scorer): string {
  return 'kind' in scorer && scorer.kind === 'custom' ? scorer.name : (scorer as ScorerSpec).type;
}

/**
 * Problems that make a set of scorers unusable (a bad regex, a broken schema, a rubric with no judge), found
 * before any model is called. Empty when all is well.
 */
export function scorerProblems(scorers: readonly Scorer[], items: readonly EvalItem[], judge?: ModelConfig): string[] {
  const problems: string[] = [];
  for (const scorer of scorers) {
    if ('kind' in scorer && scorer.kind === 'custom') continue;
    const spec = scorer as ScorerSpec;
    switch (spec.type) {
      case 'regex':
        try {
          new RegExp(spec.pattern, spec.flags);
        } catch (error) {
          problems.push(`scorer regex: ${(error as Error).message}`);
        }
        break;
      case 'json_schema':
        try {
          compileSchema(spec.schema);
        } catch (error) {
          problems.push(`scorer json_schema: the schema does not compile: ${(error as Error).message}`);
        }
        break;
      case 'semantic_similarity':
        if (!(spec.threshold >= -1 && spec.threshold <= 1)) problems.push(`scorer semantic_similarity: threshold ${spec.threshold} is not a cosine similarity (-1..1)`);
        if (spec.provider === 'anthropic') problems.push('scorer semantic_similarity: Anthropic has no embeddings API; use openai, openai_compatible or gemini');
        break;
      case 'llm_judge':
        if (!spec.judge?.provider || !spec.judge.model) problems.push('scorer llm_judge: needs a judge model (provider and model)');
        break;
      case 'exact_match':
      case 'contains':
      case 'not_contains':
      case 'is_json':
      case 'length':
      case 'latency':
      case 'cost':
        break;
      default:
        problems.push(`unknown scorer type "${(spec as { type: string }).type}"`);
    }
  }
  const rubricJudge = judge ?? firstJudge(scorers);
  for (const item of items) {
    for (const assertion of item.assertions ?? []) {
      if (assertion.type === 'rubric' && !rubricJudge) {
        problems.push(`item ${item.id} has a rubric assertion, and no judge model grades it: add an llm_judge scorer (--scorer judge=provider:model)`);
        return problems;
      }
      if (assertion.type === 'regex') {
        try {
          new RegExp(assertion.pattern, assertion.flags);
        } catch (error) {
          problems.push(`item ${item.id}: regex assertion: ${(error as Error).message}`);
        }
      }
    }
  }
  return problems;
}

function firstJudge(scorers: readonly Scorer[]): ModelConfig | undefined {
  for (const scorer of scorers) if (!('kind' in scorer) && (scorer as ScorerSpec).type === 'llm_judge') return (scorer as Extract<ScorerSpec, { type: 'llm_judge' }>).judge;
  return undefined;
}

/** Scores one call with every scorer and every assertion of its item. A call that failed fails every score. */
export async function scoreCall(item: EvalItem, result: CallResult, scorers: readonly Scorer[], options: ScoringOptions = {}): Promise<Score[]> {
  const caller = options.caller ?? createModelCaller(options.providers);
  const resolved: Resolved = { ...options, caller, price: options.price ?? defaultPrice, judge: options.judge ?? firstJudge(scorers) };
  const context: ScoreContext = { item, result, output: result.output, expectedOutput: item.expectedOutput, ...(options.signal ? { signal: options.signal } : {}) };
  const jobs: Array<Promise<Score>> = [];
  for (const scorer of scorers) jobs.push(runScorer(scorer, context, resolved));
  for (const assertion of item.assertions ?? []) jobs.push(runAssertion(assertion, context, resolved));
  return Promise.all(jobs);
}

/**
 * Scores stored results again with other scorers (or the same, after a dataset's assertions changed) without
 * calling the models under test. Judges and embedding models are called as scoring needs them.
 */
export async function scoreResults(results: readonly CallResult[], items: readonly EvalItem[], scorers: readonly Scorer[], options: ScoringOptions = {}): Promise<CallResult[]> {
  const byId = new Map(items.map((item) => [item.id, item]));
  const problems = scorerProblems(scorers, items, options.judge);
  if (problems.length) throw new ConfigProblem(problems.join('\n'));
  const caller = options.caller ?? createModelCaller(options.providers);
  const out: CallResult[] = [];
  for (const result of results) {
    const item = byId.get(result.itemId);
    if (!item) throw new ConfigProblem(`result for item ${result.itemId} (config ${result.configId}) has no item in the dataset given`);
    out.push({ ...result, scores: await scoreCall(item, result, scorers, { ...options, caller }) });
  }
  return out;
}

type Resolved = ScoringOptions & { caller: ModelCaller; price: PriceFn };

function score(scorer: string, pass: boolean, reason: string, value: number = pass ? 1 : 0, costUsd?: number | null): Score {
  return { scorer, value, pass, reason, ...(costUsd !== undefined ? { costUsd } : {}) };
}

async function runScorer(scorer: Scorer, ctx: ScoreContext, options: Resolved): Promise<Score> {
  const name = scorerName(scorer);
  if (ctx.result.error) return score(name, false, `no answer: ${ctx.result.error}`);
  try {
    if ('kind' in scorer && scorer.kind === 'custom') {
      const value = await scorer.score(ctx);
      return { ...value, scorer: value.scorer ?? name };
    }
    return await runSpec(scorer as ScorerSpec, ctx, options);
  } catch (error) {
    return score(name, false, `scorer failed: ${(error as Error).message ?? String(error)}`);
  }
}

async function runAssertion(assertion: Assertion, ctx: ScoreContext, options: Resolved): Promise<Score> {
  const name = `assertion:${assertion.type}`;
  if (ctx.result.error) return score(name, false, `no answer: ${ctx.result.error}`);
  try {
    const spec = assertionSpec(assertion, options.judge);
    const result = await runSpec(spec, ctx, options);
    return { ...result, scorer: name };
  } catch (error) {
    return score(name, false, `assertion failed to run: ${(error as Error).message ?? String(error)}`);
  }
}

/** An item assertion as the scorer that checks it; `equals` compares with the assertion's own value. */
function assertionSpec(assertion: Assertion, judge: ModelConfig | undefined): ScorerSpec | { type: 'equals'; value: string; ignoreCase?: boolean } {
  switch (assertion.type) {
    case 'max_length':
      return { type: 'length', max: assertion.value };
    case 'rubric':
      if (!judge) throw new ConfigProblem('a rubric assertion needs a judge model');
      return { type: 'llm_judge', rubric: assertion.rubric, judge };
    default:
      return assertion;
  }
}

async function runSpec(spec: ScorerSpec | { type: 'equals'; value: string; ignoreCase?: boolean }, ctx: ScoreContext, options: Resolved): Promise<Score> {
  const output = ctx.output;
  switch (spec.type) {
    case 'exact_match': {
      if (ctx.expectedOutput === null) return score(spec.type, false, 'the item has no expected output to match');
      const pass = same(output, ctx.expectedOutput, spec.ignoreCase);
      return score(spec.type, pass, pass ? 'matches the expected output' : `expected ${quote(ctx.expectedOutput)}, got ${quote(output)}`);
    }
    case 'equals': {
      const pass = same(output, spec.value, spec.ignoreCase);
      return score(spec.type, pass, pass ? `equals ${quote(spec.value)}` : `expected ${quote(spec.value)}, got ${quote(output)}`);
    }
    case 'contains': {
      const pass = includes(output, spec.value, spec.ignoreCase);
      return score(spec.type, pass, pass ? `contains ${quote(spec.value)}` : `does not contain ${quote(spec.value)}: ${quote(output)}`);
    }
    case 'not_contains': {
      const pass = !includes(output, spec.value, spec.ignoreCase);
      return score(spec.type, pass, pass ? `does not contain ${quote(spec.value)}` : `contains ${quote(spec.value)}: ${quote(output)}`);
    }
    case 'regex': {
      const pass = new RegExp(spec.pattern, spec.flags).test(output);
      return score(spec.type, pass, pass ? `matches /${spec.pattern}/${spec.flags ?? ''}` : `does not match /${spec.pattern}/${spec.flags ?? ''}: ${quote(output)}`);
    }
    case 'is_json': {
      const parsed = parseJson(output);
      return parsed.ok ? score(spec.type, true, 'valid JSON') : score(spec.type, false, `not JSON (${parsed.error}): ${quote(output)}`);
    }
    case 'json_schema': {
      const parsed = parseJson(output);
      if (!parsed.ok) return score(spec.type, false, `not JSON (${parsed.error}): ${quote(output)}`);
      const validate = compileSchema(spec.schema);
      if (validate(parsed.value)) return score(spec.type, true, 'matches the schema');
      const errors = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
      return score(spec.type, false, `does not match the schema: ${errors.join('; ')}`);
    }
    case 'length': {
      const n = [...output].length;
      const tooShort = spec.min !== undefined && n < spec.min;
      const tooLong = spec.max !== undefined && n > spec.max;
      const bounds = `${spec.min ?? 0}..${spec.max ?? '∞'}`;
      return score(spec.type, !tooShort && !tooLong, tooShort || tooLong ? `${n} characters, outside ${bounds}` : `${n} characters, within ${bounds}`);
    }
    case 'latency': {
      const ms = Math.round(ctx.result.latencyMs);
      const pass = ctx.result.latencyMs <= spec.maxMs;
      return score(spec.type, pass, `${ms} ms ${pass ? '≤' : '>'} ${spec.maxMs} ms`);
    }
    case 'cost': {
      const cost = ctx.result.costUsd;
      if (cost === null) return score(spec.type, false, 'cost unknown: the model has no known price');
      const pass = cost <= spec.maxUsd;
      return score(spec.type, pass, `$${formatUsd(cost)} ${pass ? '≤' : '>'} $${formatUsd(spec.maxUsd)}`);
    }
    case 'semantic_similarity':
      return similarity(spec, ctx, options);
    case 'llm_judge':
      return judge(spec, ctx, options);
  }
}

function same(a: string, b: string, ignoreCase?: boolean): boolean {
  return ignoreCase ? a.trim().toLowerCase() === b.trim().toLowerCase() : a.trim() === b.trim();
}

function includes(text: string, value: string, ignoreCase?: boolean): boolean {
  return ignoreCase ? text.toLowerCase().includes(value.toLowerCase()) : text.includes(value);
}

function quote(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

function formatUsd(value: number): string {
  return value < 0.01 ? value.toPrecision(3) : value.toFixed(4);
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text.trim()) };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const schemaCache = new Map<string, ValidateFunction>();

/** Draft-07 by default; a schema that says `$schema: …/2020-12/…` gets the 2020-12 validator. Formats are not checked. */
function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = schemaCache.get(key);
  if (!validate) {
    const is2020 = typeof schema.$schema === 'string' && schema.$schema.includes('2020-12');
    const ajv = is2020 ? new Ajv2020({ allErrors: true, strict: false, validateFormats: false }) : new Ajv({ allErrors: true, strict: false, validateFormats: false });
    validate = ajv.compile(schema);
    schemaCache.set(key, validate);
  }
  return validate;
}

// ---------------------------------------------------------------------------------------------------------------
// Semantic similarity

async function similarity(spec: Extract<ScorerSpec, { type: 'semantic_similarity' }>, ctx: ScoreContext, options: Resolved): Promise<Score> {
  if (ctx.expectedOutput === null) return score(spec.type, false, 'the item has no expected output to compare with');
  if (!ctx.output.trim()) return score(spec.type, false, 'the answer has no text to compare');
  const texts = [ctx.output, ctx.expectedOutput];
  const { value: attempt } = await withRetries(
    async () => {
      try {
        return {
          embedded: await options.caller.embed(spec.provider, spec.model, texts, {
            ...(spec.baseUrl ? { baseUrl: spec.baseUrl } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          }),
          failure: null,
        };
      } catch (error) {
        if (error instanceof ModelCallError || error instanceof ConfigProblem) return { embedded: null, failure: error };
        throw error;
      }
    },
    (a) => (a.failure instanceof ModelCallError ? a.failure.detail : null),
    options.retries,
    options.signal,
  );
  if (!attempt.embedded) return score(spec.type, false, attempt.failure!.message);
  const embedded = attempt.embedded;
  const [a, b] = embedded.vectors;
  if (!a || !b) return score(spec.type, false, `${spec.provider}:${spec.model} returned ${embedded.vectors.length} embeddings for 2 texts`);
  const cosine = cosineSimilarity(a, b);
  const costUsd = priceOf(options.price, { provider: spec.provider, model: spec.model }, { inputTokens: embedded.inputTokens, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 });
  const pass = cosine >= spec.threshold;
  return score(spec.type, pass, `cosine similarity ${cosine.toFixed(3)} ${pass ? '≥' : '<'} ${spec.threshold}`, Math.max(0, Math.min(1, cosine)), costUsd);
}

export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`embeddings of different lengths (${a.length} and ${b.length})`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

// ---------------------------------------------------------------------------------------------------------------
// LLM judge

const JUDGE_SYSTEM = [
  'You grade the answer an AI assistant gave in a conversation, against a rubric.',
  'Judge only what the rubric asks. When an expected answer is given, use it as the reference for what is correct.',
  'Reply with one JSON object and nothing else:',
  '{"score": <number from 0 to 1>, "pass": <true or false>, "reason": "<one or two sentences>"}',
].join('\n');

const DEFAULT_RUBRIC = 'The answer responds correctly and completely to the last user message, and agrees with the expected answer when one is given.';

async function judge(spec: Extract<ScorerSpec, { type: 'llm_judge' }>, ctx: ScoreContext, options: Resolved): Promise<Score> {
  // No default sampling parameters: reasoning models refuse temperature 0, and a token cap can starve their answer.
  const judgeConfig: ModelConfig = spec.judge;
  const prompt = [
    '## Conversation',
    renderConversation(ctx.item),
    '## Rubric',
    spec.rubric?.trim() || DEFAULT_RUBRIC,
    ...(ctx.expectedOutput !== null ? ['## Expected answer', ctx.expectedOutput] : []),
    '## Answer to grade',
    ctx.output || renderParts(ctx.result.outputMessages.flatMap((m) => m.parts)) || '(empty)',
  ].join('\n\n');
  const { result } = await callWithRetries(
    () =>
      options.caller.call(
        judgeConfig,
        { systemInstructions: [{ type: 'text', content: JUDGE_SYSTEM }], messages: [{ role: 'user', parts: [{ type: 'text', content: prompt }] }] },
        { ...(options.signal ? { signal: options.signal } : {}), ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) },
      ),
    options.retries,
    options.signal,
  );
  const costUsd = result.error ? null : priceOf(options.price, judgeConfig, result.usage);
  const who = `judge ${judgeConfig.provider}:${judgeConfig.model}`;
  if (result.error) return score(spec.type, false, `${who} failed: ${result.error.message}`, 0, null);
  const verdict = parseVerdict(result.output);
  if (!verdict.ok) return score(spec.type, false, `${who} gave no usable verdict (${verdict.error}): ${quote(result.output, 200)}`, 0, costUsd);
  const pass = spec.threshold !== undefined ? verdict.score >= spec.threshold : (verdict.pass ?? verdict.score >= 0.5);
  return score(spec.type, pass, `${who}: ${verdict.reason || (pass ? 'pass' : 'fail')} (score ${verdict.score})`, verdict.score, costUsd);
}

function renderConversation(item: EvalItem): string {
  const lines: string[] = [];
  const system = renderParts(item.input.systemInstructions ?? []);
  if (system) lines.push(`[system] ${system}`);
  for (const message of item.input.messages) lines.push(`[${message.role}] ${renderParts(message.parts)}`);
  return lines.join('\n');
}

function renderParts(parts: readonly MessagePart[]): string {
  return parts
    .map((part) => {
      const p = part as Record<string, unknown>;
      if (part.type === 'text') return String(p.content);
      if (part.type === 'tool_call') return `(calls tool ${String(p.name)} with ${JSON.stringify(p.arguments ?? {})})`;
      if (part.type === 'tool_call_response') return `(tool result: ${typeof p.response === 'string' ? p.response : JSON.stringify(p.response)})`;
      if (part.type === 'reasoning') return '';
      return `(${part.type})`;
    })
    .filter(Boolean)
    .join(' ');
}

export interface Verdict {
  score: number;
  pass: boolean | undefined;
  reason: string;
}

/**
 * Finds the judge's JSON verdict in its answer: the whole answer, else a ```json fence, else the first balanced
 * `{…}` with a score or pass in it (judges wrap verdicts in prose). The score must be within 0..1; a verdict
 * with only `pass` scores 1 or 0.
 */
export function parseVerdict(text: string): { ok: true; score: number; pass: boolean | undefined; reason: string } | { ok: false; error: string } {
  const candidates: string[] = [text.trim()];
  for (const match of text.matchAll(/```(?:json|JSON)?\s*\n?([\s\S]*?)```/g)) candidates.push(match[1]!.trim());
  candidates.push(...balancedObjects(text));
  let lastProblem = 'no JSON object in the answer';
  for (const candidate of candidates) {
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const v = value as Record<string, unknown>;
    const pass = typeof v.pass === 'boolean' ? v.pass : v.pass === 'true' ? true : v.pass === 'false' ? false : undefined;
    const rawScore = typeof v.score === 'number' ? v.score : typeof v.score === 'string' && v.score.trim() !== '' ? Number(v.score) : undefined;
    if (rawScore === undefined && pass === undefined) {
      lastProblem = 'the JSON has neither "score" nor "pass"';
      continue;
    }
    if (rawScore !== undefined && !(rawScore >= 0 && rawScore <= 1)) {
      lastProblem = `score ${String(v.score)} is outside 0..1`;
      continue;
    }
    const scoreValue = rawScore ?? (pass ? 1 : 0);
    return { ok: true, score: scoreValue, pass, reason: typeof v.reason === 'string' ? v.reason : '' };
  }
  return { ok: false, error: lastProblem };
}

/** Every top-level `{…}` in the text, braces inside JSON strings ignored. */
function balancedObjects(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}
