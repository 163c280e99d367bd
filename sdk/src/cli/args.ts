// `parallax eval` arguments → what to run. Every mistake is a UsageError naming the flag and what it wants;
// main.ts turns it into exit code 2.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ModelConfig, ProviderName, ScorerSpec } from '../eval/types.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface EvalArgs {
  dataset: string;
  datasetVersion: number | undefined;
  configs: ModelConfig[];
  scorers: ScorerSpec[];
  judge: ModelConfig | undefined;
  repetitions: number;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  threshold: number | undefined;
  baseline: string | undefined;
  junit: string | undefined;
  markdown: string | undefined;
  json: string | undefined;
  collector: string | undefined;
  apiKey: string | undefined;
}

export const EVAL_USAGE = `Usage: parallax eval --dataset <dataset id | file.jsonl> --config <provider:model> [options]

Runs every item of a dataset on each model configuration, scores the answers, prints a summary per
configuration, and exits 1 when a pass rate is under --threshold or an item regressed against --baseline.

Dataset
  --dataset <id | path>        a collector dataset id, or a local JSONL file (one item per line, as the
                               collector's export writes them); an item's id is its "id" or metadata.id,
                               else line-<n>
  --dataset-version <n>        a collector dataset's version (default: the latest)

Models
  --config [id=]<provider>:<model>[@baseUrl]
                               provider: openai, anthropic, gemini, openai_compatible (needs @baseUrl);
                               repeat for each model; the id (default provider:model) names it in reports
  --param <key>=<value>        a request parameter for every configuration (temperature=0, max_tokens=512,
                               output_type=json, …); values are read as JSON when they parse
  --system-prompt <text>       replace the items' system prompt

Scoring (an item's own assertions are always scored)
  --scorer <spec>              exact_match | exact_match_i | contains=<text> | icontains=<text> |
                               not_contains=<text> | regex=<pattern> or regex=/<pattern>/<flags> | is_json |
                               json_schema=<schema.json> | length=<min>..<max> | max_length=<n> |
                               latency=<ms> | cost=<usd> |
                               similarity=<provider>:<model>[@baseUrl][,threshold=0.8] |
                               judge=<provider>:<model>[@baseUrl][,threshold=<0..1>][,<param>=<value>…]
                                 [,rubric=<text…>]  (rubric= last: it takes the rest)
  --scorers <file.json>        a JSON array of scorer specs (the library's ScorerSpec shapes)
  --judge <provider>:<model>   grades items' rubric assertions (default: the first judge scorer's model)

Run
  --repetitions <n>            calls per item and configuration (default 1)
  --concurrency <n>            calls in flight per provider (default 4)
  --timeout <ms>               per attempt (default 120000)
  --retries <n>                retries of 429/5xx/network failures (default 3)

Gate and reports
  --threshold <0..1>           exit 1 when a configuration's pass rate is below it
  --baseline <results.json>    a previous --json output; exit 1 when an item that passed there fails now
  --junit <file.xml>           JUnit XML: one testsuite per configuration, one testcase per item × repetition
  --markdown <file.md>         a Markdown summary (e.g. $GITHUB_STEP_SUMMARY)
  --json <file.json>           every result, summary and comparison, usable as a later --baseline

Collector (datasets by id, and tracing every call)
  --collector <url>            default: OTEL_EXPORTER_OTLP_ENDPOINT, else http://localhost:4318
  --api-key <key>              default: PARALLAX_API_KEY

Keys: OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY, OPENAI_COMPATIBLE_API_KEY (optional);
base URLs: OPENAI_BASE_URL, ANTHROPIC_BASE_URL, GEMINI_BASE_URL.
Exit codes: 0 all gates passed, 1 a gate failed, 2 usage or configuration error.
`;

const PROVIDERS: readonly ProviderName[] = ['openai', 'anthropic', 'gemini', 'openai_compatible'];

export function parseEvalArgs(argv: string[], env: Record<string, string | undefined> = process.env): EvalArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        dataset: { type: 'string' },
        'dataset-version': { type: 'string' },
        config: { type: 'string', multiple: true },
        param: { type: 'string', multiple: true },
        'system-prompt': { type: 'string' },
        scorer: { type: 'string', multiple: true },
        scorers: { type: 'string' },
        judge: { type: 'string' },
        repetitions: { type: 'string' },
        concurrency: { type: 'string' },
        timeout: { type: 'string' },
        retries: { type: 'string' },
        threshold: { type: 'string' },
        baseline: { type: 'string' },
        junit: { type: 'string' },
        markdown: { type: 'string' },
        json: { type: 'string' },
        collector: { type: 'string' },
        'api-key': { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  if (!v.dataset) throw new UsageError('--dataset is required: a collector dataset id or a JSONL file');
  if (!v.config?.length) throw new UsageError('at least one --config <provider>:<model> is required');

  const params: Record<string, unknown> = {};
  for (const param of v.param ?? []) {
    const eq = param.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param ${param}: expected key=value`);
    params[param.slice(0, eq)] = jsonOrString(param.slice(eq + 1));
  }
  const configs = v.config.map((spec) => {
    const config = parseModelSpec(spec, '--config');
    if (Object.keys(params).length) config.params = { ...params };
    if (v['system-prompt'] !== undefined) config.systemPrompt = v['system-prompt'];
    return config;
  });

  const scorers = (v.scorer ?? []).map(parseScorerSpec);
  if (v.scorers) scorers.push(...readScorersFile(v.scorers));

  return {
    dataset: v.dataset,
    datasetVersion: v['dataset-version'] === undefined ? undefined : wholeNumber(v['dataset-version'], '--dataset-version', 0),
    configs,
    scorers,
    judge: v.judge ? parseModelSpec(v.judge, '--judge') : undefined,
    repetitions: v.repetitions === undefined ? 1 : wholeNumber(v.repetitions, '--repetitions', 1),
    concurrency: v.concurrency === undefined ? 4 : wholeNumber(v.concurrency, '--concurrency', 1),
    timeoutMs: v.timeout === undefined ? 120_000 : wholeNumber(v.timeout, '--timeout', 1),
    retries: v.retries === undefined ? 3 : wholeNumber(v.retries, '--retries', 0),
    threshold: v.threshold === undefined ? undefined : fraction(v.threshold, '--threshold'),
    baseline: v.baseline,
    junit: v.junit,
    markdown: v.markdown,
    json: v.json,
    collector: v.collector ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined),
    apiKey: v['api-key'] ?? (env.PARALLAX_API_KEY || undefined),
  };
}

/** `[id=]provider:model[@baseUrl]`. The model may itself contain colons (`llama3:8b`). */
export function parseModelSpec(spec: string, flag: string): ModelConfig {
  const match = /^(?:([^=:@]+)=)?([a-z_]+):(.+?)(?:@(https?:\/\/\S+))?$/.exec(spec.trim());
  if (!match) throw new UsageError(`${flag} ${spec}: expected [id=]<provider>:<model>[@baseUrl], e.g. openai:gpt-4o-mini`);
  const [, id, provider, model, baseUrl] = match;
  if (!PROVIDERS.includes(provider as ProviderName)) throw new UsageError(`${flag} ${spec}: unknown provider "${provider}" (use ${PROVIDERS.join(', ')})`);
  const config: ModelConfig = { id: id ?? `${provider}:${model}`, provider: provider as ProviderName, model: model! };
  if (baseUrl) config.baseUrl = baseUrl;
  return config;
}

export function parseScorerSpec(spec: string): ScorerSpec {
  const eq = spec.indexOf('=');
  const name = (eq < 0 ? spec : spec.slice(0, eq)).trim();
  const value = eq < 0 ? undefined : spec.slice(eq + 1);
  const need = (what: string): string => {
    if (value === undefined || value === '') throw new UsageError(`--scorer ${spec}: ${name} needs ${what}, e.g. ${name}=${what}`);
    return value;
  };
  switch (name) {
    case 'exact_match':
      return { type: 'exact_match' };
    case 'exact_match_i':
      return { type: 'exact_match', ignoreCase: true };
    case 'contains':
      return { type: 'contains', value: need('<text>') };
    case 'icontains':
      return { type: 'contains', value: need('<text>'), ignoreCase: true };
    case 'not_contains':
      return { type: 'not_contains', value: need('<text>') };
    case 'inot_contains':
      return { type: 'not_contains', value: need('<text>'), ignoreCase: true };
    case 'regex': {
      const raw = need('<pattern>');
      const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(raw);
      const pattern = literal ? literal[1]! : raw;
      const flags = literal?.[2] || undefined;
      try {
        new RegExp(pattern, flags);
      } catch (error) {
        throw new UsageError(`--scorer ${spec}: ${(error as Error).message}`);
      }
      return flags ? { type: 'regex', pattern, flags } : { type: 'regex', pattern };
    }
    case 'is_json':
      return { type: 'is_json' };
    case 'json_schema': {
      const path = need('<schema.json>');
      return { type: 'json_schema', schema: readJson(path, `--scorer ${spec}`) as Record<string, unknown> };
    }
    case 'length': {
      const range = /^(\d*)\.\.(\d*)$/.exec(need('<min>..<max>'));
      if (!range || (!range[1] && !range[2])) throw new UsageError(`--scorer ${spec}: expected length=<min>..<max> (either side may be empty)`);
      return { type: 'length', ...(range[1] ? { min: Number(range[1]) } : {}), ...(range[2] ? { max: Number(range[2]) } : {}) };
    }
    case 'max_length':
      return { type: 'length', max: wholeNumber(need('<n>'), `--scorer ${spec}`, 0) };
    case 'min_length':
      return { type: 'length', min: wholeNumber(need('<n>'), `--scorer ${spec}`, 0) };
    case 'latency':
      return { type: 'latency', maxMs: positive(need('<ms>'), `--scorer ${spec}`) };
    case 'cost':
      return { type: 'cost', maxUsd: positive(need('<usd>'), `--scorer ${spec}`) };
    case 'similarity':
    case 'semantic_similarity': {
      const [model, ...options] = need('<provider>:<model>').split(',');
      const config = parseModelSpec(model!, `--scorer ${spec}`);
      let threshold = 0.8;
      for (const option of options) {
        const [key, val] = option.split('=');
        if (key?.trim() === 'threshold') threshold = fraction(val ?? '', `--scorer ${spec} threshold`);
        else throw new UsageError(`--scorer ${spec}: unknown option "${option}" (similarity takes threshold=<0..1>)`);
      }
      return { type: 'semantic_similarity', provider: config.provider, model: config.model, threshold, ...(config.baseUrl ? { baseUrl: config.baseUrl } : {}) };
    }
    case 'judge':
    case 'llm_judge': {
      const raw = need('<provider>:<model>');
      // rubric= takes the rest of the spec, commas and all.
      const rubricAt = raw.search(/,\s*rubric=/);
      const head = rubricAt < 0 ? raw : raw.slice(0, rubricAt);
      const rubric = rubricAt < 0 ? undefined : raw.slice(raw.indexOf('rubric=', rubricAt) + 'rubric='.length);
      const [model, ...options] = head.split(',');
      const judge = parseModelSpec(model!, `--scorer ${spec}`);
      const out: Extract<ScorerSpec, { type: 'llm_judge' }> = { type: 'llm_judge', judge };
      for (const option of options) {
        const [key, val] = option.split('=');
        const name = key?.trim() ?? '';
        if (name === 'threshold') out.threshold = fraction(val ?? '', `--scorer ${spec} threshold`);
        else if (name && val !== undefined) judge.params = { ...judge.params, [name]: jsonOrString(val) };
        else throw new UsageError(`--scorer ${spec}: "${option}" is not key=value (judge takes threshold=, rubric= and request parameters such as temperature=0)`);
      }
      if (rubric !== undefined) out.rubric = rubric;
      return out;
    }
    default:
      throw new UsageError(`--scorer ${spec}: unknown scorer "${name}" (see parallax eval --help)`);
  }
}

function readScorersFile(path: string): ScorerSpec[] {
  const value = readJson(path, `--scorers ${path}`);
  if (!Array.isArray(value)) throw new UsageError(`--scorers ${path}: expected a JSON array of scorer specs`);
  return value.map((spec, i) => {
    if (typeof spec !== 'object' || spec === null || typeof (spec as { type?: unknown }).type !== 'string') {
      throw new UsageError(`--scorers ${path}: entry ${i} has no "type"`);
    }
    return spec as ScorerSpec;
  });
}

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${what}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${what}: ${path} is not JSON (${(error as Error).message})`);
  }
}

function jsonOrString(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function wholeNumber(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} ${text}: expected a whole number ≥ ${min}`);
  return n;
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: expected a number > 0, got "${text}"`);
  return n;
}

function fraction(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${flag}: expected a number from 0 to 1, got "${text}"`);
  return n;
}
