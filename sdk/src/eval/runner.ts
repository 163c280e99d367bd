// Runs an experiment: every item × configuration × repetition, with at most `concurrency` calls in flight per
// provider, retries, per-attempt timeouts and cancellation. Each call runs inside withContext() and a span of its
// own, so its trace is tagged `experiment` and carries the experiment, item and configuration ids.
import { randomUUID } from 'node:crypto';
import { context, SpanKind, SpanStatusCode, trace, type TracerProvider } from '@opentelemetry/api';
import { contextAttributes, withContext } from '../context.ts';
import { getTracer } from '../instrument/tracer.ts';
import { defaultPrice, priceOf } from './pricing.ts';
import { ConfigProblem, createModelCaller, replayParams, type ModelCaller, type ProviderOptions } from './providers.ts';
import { callWithRetries, type RetryPolicy } from './retry.ts';
import { scoreCall, scorerProblems, type Scorer } from './scorers.ts';
import type { CallResult, EvalItem, ModelConfig, PriceFn, RunProgress } from './types.ts';

export interface RunOptions {
  items: readonly EvalItem[];
  configs: readonly ModelConfig[];
  scorers?: readonly Scorer[];
  /** Calls per item and configuration. Default 1. */
  repetitions?: number;
  /** Calls in flight at once per provider (per base URL for openai_compatible). Default 4. */
  concurrency?: number;
  /** Bounds each attempt of a call. Default 120000 ms. */
  timeoutMs?: number;
  /** Stops new calls and aborts the ones in flight; the results finished so far are returned. */
  signal?: AbortSignal;
  /** Retries of 429, 408/409, 5xx and network failures. Default 3 retries, 1 s base, 30 s cap. */
  retries?: RetryPolicy;
  /** Each finished call, scored, as soon as it is done. */
  onResult?: (result: CallResult) => void;
  onProgress?: (progress: RunProgress) => void;
  /** Default: @pydantic/genai-prices; null for unknown models. */
  price?: PriceFn;
  /** Names the experiment in the traces' metadata. Default: a random UUID. */
  experimentId?: string;
  /** Keys, base URLs and wrap() options for the provider clients. */
  providers?: ProviderOptions;
  /** Grades items' rubric assertions. Default: the first llm_judge scorer's judge. */
  judge?: ModelConfig;
  /** Use these clients (tests, the collector's runner); made from `providers` when absent. */
  caller?: ModelCaller;
  /** Where the calls' spans go. Default: the provider init() set up, else the global one. */
  tracerProvider?: TracerProvider;
}

interface Task {
  item: EvalItem;
  config: ModelConfig;
  repetition: number;
  order: number;
}

/**
 * Runs every call and returns the results in item × configuration × repetition order. Configuration problems
 * (a missing key, a bad regex, a rubric with no judge, duplicate ids) throw before any call is made; call
 * failures are results with an `error`. Cancelled calls are left out.
 */
export async function runEvaluation(options: RunOptions): Promise<CallResult[]> {
  const repetitions = options.repetitions ?? 1;
  const concurrency = options.concurrency ?? 4;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const scorers = options.scorers ?? [];
  const price = options.price ?? defaultPrice;
  const experimentId = options.experimentId ?? randomUUID();
  const caller =
    options.caller ??
    createModelCaller(options.tracerProvider ? { ...options.providers, wrap: { tracerProvider: options.tracerProvider, ...options.providers?.wrap } } : options.providers);
  const signal = options.signal;

  const problems = runProblems(options, caller, repetitions, concurrency);
  problems.push(...scorerProblems(scorers, options.items, options.judge));
  if (problems.length) throw new ConfigProblem(problems.join('\n'));

  const tasks: Task[] = [];
  for (const item of options.items) {
    for (const config of options.configs) {
      for (let repetition = 0; repetition < repetitions; repetition++) tasks.push({ item, config, repetition, order: tasks.length });
    }
  }
  const queues = new Map<string, Task[]>();
  for (const task of tasks) {
    const key = poolKey(task.config);
    let queue = queues.get(key);
    if (!queue) queues.set(key, (queue = []));
    queue.push(task);
  }

  const done: Array<{ order: number; result: CallResult }> = [];
  const progress: RunProgress = { total: tasks.length, done: 0, errors: 0, costUsd: 0 };
  options.onProgress?.({ ...progress });

  const runTask = async (task: Task): Promise<void> => {
    const result = await callOnce(task, { caller, price, timeoutMs, experimentId, scorers, options });
    if (!result) return;
    done.push({ order: task.order, result });
    progress.done++;
    if (result.error) progress.errors++;
    progress.costUsd += (result.costUsd ?? 0) + result.scores.reduce((sum, s) => sum + (s.costUsd ?? 0), 0);
    options.onResult?.(result);
    options.onProgress?.({ ...progress });
  };

  const workers: Array<Promise<void>> = [];
  for (const queue of queues.values()) {
    for (let i = 0; i < Math.min(concurrency, queue.length); i++) {
      workers.push(
        (async () => {
          for (let task = queue.shift(); task && !signal?.aborted; task = queue.shift()) await runTask(task);
        })(),
      );
    }
  }
  await Promise.all(workers);
  return done.sort((a, b) => a.order - b.order).map((d) => d.result);
}

function runProblems(options: RunOptions, caller: ModelCaller, repetitions: number, concurrency: number): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(repetitions) || repetitions < 1) problems.push(`repetitions must be a whole number ≥ 1 (got ${repetitions})`);
  if (!Number.isInteger(concurrency) || concurrency < 1) problems.push(`concurrency must be a whole number ≥ 1 (got ${concurrency})`);
  if (options.configs.length === 0) problems.push('no model configuration to run');
  const ids = new Set<string>();
  for (const config of options.configs) {
    if (ids.has(config.id)) problems.push(`two configurations share the id "${config.id}": give each its own id`);
    ids.add(config.id);
    const problem = caller.problem(config);
    if (problem) problems.push(problem);
    try {
      replayParams(undefined, config.params);
    } catch (error) {
      problems.push(`config ${config.id}: ${(error as Error).message}`);
    }
  }
  const itemIds = new Set<string>();
  for (const item of options.items) {
    if (itemIds.has(item.id)) problems.push(`two items share the id "${item.id}"`);
    itemIds.add(item.id);
    if (!item.input?.messages?.length) problems.push(`item ${item.id} has no input messages`);
  }
  return problems;
}

/** Providers are rate-limited per account (per server for a self-hosted model), so that is what a pool shares. */
function poolKey(config: ModelConfig): string {
  return config.provider === 'openai_compatible' ? `openai_compatible|${config.baseUrl ?? ''}` : config.provider;
}

interface CallDeps {
  caller: ModelCaller;
  price: PriceFn;
  timeoutMs: number;
  experimentId: string;
  scorers: readonly Scorer[];
  options: RunOptions;
}

/** One call with its retries, priced and scored; undefined when it was cancelled. */
async function callOnce(task: Task, deps: CallDeps): Promise<CallResult | undefined> {
  const { item, config, repetition } = task;
  const { signal } = deps.options;
  if (signal?.aborted) return undefined;
  const metadata = { experiment: deps.experimentId, item: item.id, config: config.id, repetition };
  return withContext({ metadata, tags: ['experiment'] }, () =>
    inSpan(`experiment ${config.id}`, deps.options.tracerProvider, async (traceId) => {
      const { result } = await callWithRetries(
        () => deps.caller.call(config, item.input, { timeoutMs: deps.timeoutMs, ...(signal ? { signal } : {}) }),
        deps.options.retries,
        signal,
      );
      if (result.error?.kind === 'cancelled' || (signal?.aborted && result.error)) return undefined;
      const costUsd = result.error && result.usage.inputTokens + result.usage.outputTokens === 0 ? 0 : priceOf(deps.price, config, result.usage);
      const call: CallResult = {
        itemId: item.id,
        configId: config.id,
        repetition,
        output: result.output,
        outputMessages: result.outputMessages,
        error: result.error?.message ?? null,
        latencyMs: result.latencyMs,
        ttftMs: result.ttftMs,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costUsd,
        traceId,
        scores: [],
      };
      // Judge and embedding calls share the call's trace, marked `grading` so their tokens and cost are not
      // taken for the configuration's own.
      call.scores = await withContext({ metadata: { grading: true } }, () =>
        scoreCall(item, call, deps.scorers, {
          caller: deps.caller,
          price: deps.price,
          timeoutMs: deps.timeoutMs,
          ...(deps.options.judge ? { judge: deps.options.judge } : {}),
          ...(deps.options.retries ? { retries: deps.options.retries } : {}),
          ...(signal ? { signal } : {}),
        }),
      );
      if (signal?.aborted && call.scores.some((s) => /cancelled/.test(s.reason))) return undefined;
      return call;
    }),
  );
}

/**
 * Runs `fn` in a span of its own (as traced() does, on `tracerProvider` when given), so the LLM span and any
 * judge's share one trace; `fn` gets the trace id, or null when tracing is off.
 */
async function inSpan<T>(name: string, tracerProvider: TracerProvider | undefined, fn: (traceId: string | null) => Promise<T>): Promise<T> {
  const parent = context.active();
  const span = getTracer(tracerProvider).startSpan(name, { kind: SpanKind.INTERNAL, attributes: contextAttributes(parent) }, parent);
  const spanContext = span.spanContext();
  const traceId = trace.isSpanContextValid(spanContext) ? spanContext.traceId : null;
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(traceId));
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message ?? String(error) });
    throw error;
  } finally {
    span.end();
  }
}
