// The new-experiment form as plain rows of strings (what the inputs hold), and the checks that turn them
// into the collector's request. Fields are named configs.<i>.<field> and scorers.<i>.<field>, so the
// form posts without JavaScript too; errors name the row as a person counts it.
import type { ExperimentModelConfig, ExperimentScorer, Provider, RunBody, StartBody } from '#lib/experiments/types.ts';

export interface ConfigRow {
  id: string;
  provider: Provider;
  model: string;
  baseUrl: string;
  temperature: string;
  maxTokens: string;
  /** Any other request parameters, as a JSON object. */
  params: string;
  systemPrompt: string;
}

export type ScorerType = ExperimentScorer['type'];

/** One scorer row; which fields count depends on the type (see SCORER_TYPES). */
export interface ScorerRow {
  type: ScorerType | '';
  /** Text to look for, regex pattern, JSON schema, rubric, or the latency/cost limit. */
  value: string;
  /** "on" for ignore case; regex flags. */
  option: string;
  min: string;
  max: string;
  /** Judge or embedding model. */
  provider: Provider;
  model: string;
  baseUrl: string;
  threshold: string;
}

export const SCORER_TYPES: { type: ScorerType; label: string; hint: string }[] = [
  { type: 'exact_match', label: 'Exact match', hint: 'The answer equals the item’s expected output' },
  { type: 'contains', label: 'Contains', hint: 'Text every answer must contain' },
  { type: 'not_contains', label: 'Does not contain', hint: 'Text no answer may contain' },
  { type: 'regex', label: 'Matches regex', hint: 'Pattern, e.g. ^\\d+ items?$' },
  { type: 'is_json', label: 'Is valid JSON', hint: '' },
  { type: 'json_schema', label: 'Matches JSON schema', hint: '{ "type": "object", "required": ["answer"] }' },
  { type: 'length', label: 'Length (characters)', hint: '' },
  { type: 'latency', label: 'Latency at most (ms)', hint: 'e.g. 2000' },
  { type: 'cost', label: 'Cost per call at most (USD)', hint: 'e.g. 0.002' },
  { type: 'semantic_similarity', label: 'Semantic similarity to expected', hint: '' },
  { type: 'llm_judge', label: 'LLM judge with a rubric', hint: 'What a good answer does, for the judge model' },
];

/** Most configurations, and most scorers, one experiment form holds. */
export const MAX_ROWS = 20;

export const blankConfig = (provider: Provider = 'openai', model = ''): ConfigRow => ({
  id: '',
  provider,
  model,
  baseUrl: '',
  temperature: '',
  maxTokens: '',
  params: '',
  systemPrompt: '',
});

export const blankScorer = (type: ScorerRow['type'] = ''): ScorerRow => ({
  type,
  value: '',
  option: '',
  min: '',
  max: '',
  provider: 'openai',
  model: '',
  baseUrl: '',
  threshold: '',
});

export interface FormValues {
  name: string;
  datasetId: string;
  datasetVersion: string;
  repetitions: string;
  concurrency: string;
  baselineExperimentId: string;
  configs: ConfigRow[];
  scorers: ScorerRow[];
}

const text = (form: FormData, key: string) => String(form.get(key) ?? '');

function rowIndexes(form: FormData, prefix: string, field: string): number[] {
  const pattern = new RegExp(`^${prefix}\\.(\\d+)\\.${field}$`);
  const found = new Set<number>();
  for (const key of form.keys()) {
    const match = pattern.exec(key);
    if (match) found.add(Number(match[1]));
  }
  return [...found].sort((a, b) => a - b);
}

export function valuesFromForm(form: FormData): FormValues {
  const configs = rowIndexes(form, 'configs', 'provider').map((i) => {
    const field = (name: string) => text(form, `configs.${i}.${name}`);
    return {
      id: field('id'),
      provider: field('provider') as Provider,
      model: field('model'),
      baseUrl: field('baseUrl'),
      temperature: field('temperature'),
      maxTokens: field('maxTokens'),
      params: field('params'),
      systemPrompt: field('systemPrompt'),
    };
  });
  const scorers = rowIndexes(form, 'scorers', 'type').map((i) => {
    const field = (name: string) => text(form, `scorers.${i}.${name}`);
    return {
      type: field('type') as ScorerRow['type'],
      value: field('value'),
      option: field('option'),
      min: field('min'),
      max: field('max'),
      provider: (field('provider') || 'openai') as Provider,
      model: field('model'),
      baseUrl: field('baseUrl'),
      threshold: field('threshold'),
    };
  });
  return {
    name: text(form, 'name'),
    datasetId: text(form, 'datasetId'),
    datasetVersion: text(form, 'datasetVersion'),
    repetitions: text(form, 'repetitions'),
    concurrency: text(form, 'concurrency'),
    baselineExperimentId: text(form, 'baselineExperimentId'),
    configs,
    scorers,
  };
}

type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** A field as text: number inputs bound in the browser hold numbers (or null when empty), posted ones strings. */
const str = (raw: unknown): string => (raw === null || raw === undefined ? '' : String(raw)).trim();
const bad = (error: string): { ok: false; error: string } => ({ ok: false, error });

function wholeNumber(raw: unknown, label: string, min: number, max: number, fallback: number): Parsed<number> {
  if (str(raw) === '') return { ok: true, value: fallback };
  const n = Number(str(raw));
  if (!Number.isInteger(n) || n < min || n > max) return bad(`${label} must be a whole number from ${min} to ${max}, not "${raw}".`);
  return { ok: true, value: n };
}

function number(raw: unknown, label: string, check: (n: number) => boolean, rule: string): Parsed<number | undefined> {
  if (str(raw) === '') return { ok: true, value: undefined };
  const n = Number(str(raw));
  if (!Number.isFinite(n) || !check(n)) return bad(`${label} ${rule}, not "${raw}".`);
  return { ok: true, value: n };
}

function httpUrl(raw: string, label: string): Parsed<string> {
  try {
    const url = new URL(raw.trim());
    if (url.protocol === 'http:' || url.protocol === 'https:') return { ok: true, value: url.toString().replace(/\/+$/, '') };
  } catch {
    // reported below
  }
  return bad(`${label} needs a base URL such as http://localhost:8000/v1, not "${raw}".`);
}

/** An id the collector accepts (letters, digits and . @ : / + - _), from what was typed or the model name. */
export function configIdFor(row: Pick<ConfigRow, 'id' | 'model'>): string {
  const source = row.id.trim() || row.model.trim();
  return source.replace(/[^\w.@:/+-]+/g, '-').slice(0, 100);
}

function parseConfig(row: ConfigRow, n: string): Parsed<ExperimentModelConfig> {
  if (!['openai', 'anthropic', 'gemini', 'openai_compatible'].includes(row.provider)) return bad(`${n}: choose a provider.`);
  const model = row.model.trim();
  if (!model) return bad(`${n}: name the model, e.g. gpt-4o-mini or claude-haiku-4-5.`);
  const params: Record<string, unknown> = {};
  if (row.params.trim() !== '') {
    let extra: unknown;
    try {
      extra = JSON.parse(row.params);
    } catch (failure) {
      return bad(`${n}: the other parameters are not JSON (${(failure as Error).message}).`);
    }
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) return bad(`${n}: other parameters are a JSON object, e.g. { "top_p": 0.9 }.`);
    Object.assign(params, extra);
  }
  const temperature = number(row.temperature, `${n}: temperature`, (t) => t >= 0 && t <= 2, 'is a number from 0 to 2');
  if (!temperature.ok) return temperature;
  if (temperature.value !== undefined) params.temperature = temperature.value;
  if (str(row.maxTokens) !== '') {
    const maxTokens = wholeNumber(row.maxTokens, `${n}: max tokens`, 1, 1_000_000, 0);
    if (!maxTokens.ok) return maxTokens;
    params.max_tokens = maxTokens.value;
  }
  const config: ExperimentModelConfig = { id: configIdFor(row), provider: row.provider, model };
  if (Object.keys(params).length > 0) config.params = params;
  if (row.systemPrompt.trim() !== '') config.systemPrompt = row.systemPrompt;
  if (row.provider === 'openai_compatible') {
    const url = httpUrl(row.baseUrl, `${n} (OpenAI-compatible)`);
    if (!url.ok) return url;
    config.baseUrl = url.value;
  }
  return { ok: true, value: config };
}

function parseScorer(row: ScorerRow, n: string): Parsed<ExperimentScorer | null> {
  const ignoreCase = row.option === 'on' ? { ignoreCase: true } : {};
  switch (row.type) {
    case '':
      return { ok: true, value: null };
    case 'exact_match':
      return { ok: true, value: { type: 'exact_match', ...ignoreCase } };
    case 'contains':
    case 'not_contains':
      if (row.value === '') return bad(`${n}: give the text to look for.`);
      return { ok: true, value: { type: row.type, value: row.value, ...ignoreCase } };
    case 'regex': {
      if (row.value === '') return bad(`${n}: give a regular expression.`);
      const flags = row.option.trim();
      try {
        new RegExp(row.value, flags);
      } catch (failure) {
        return bad(`${n}: not a valid regular expression (${(failure as Error).message}).`);
      }
      return { ok: true, value: { type: 'regex', pattern: row.value, ...(flags ? { flags } : {}) } };
    }
    case 'is_json':
      return { ok: true, value: { type: 'is_json' } };
    case 'json_schema': {
      let schema: unknown;
      try {
        schema = JSON.parse(row.value);
      } catch (failure) {
        return bad(`${n}: the JSON schema is not JSON (${(failure as Error).message}).`);
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return bad(`${n}: a JSON schema is an object, { … }.`);
      return { ok: true, value: { type: 'json_schema', schema: schema as Record<string, unknown> } };
    }
    case 'length': {
      const min = str(row.min) === '' ? undefined : wholeNumber(row.min, `${n}: minimum length`, 0, 10_000_000, 0);
      const max = str(row.max) === '' ? undefined : wholeNumber(row.max, `${n}: maximum length`, 0, 10_000_000, 0);
      if (min && !min.ok) return min;
      if (max && !max.ok) return max;
      if (!min && !max) return bad(`${n}: give a minimum length, a maximum, or both.`);
      return { ok: true, value: { type: 'length', ...(min?.ok ? { min: min.value } : {}), ...(max?.ok ? { max: max.value } : {}) } };
    }
    case 'latency': {
      const maxMs = number(row.value, `${n}: the latency limit`, (v) => v > 0, 'is a number of milliseconds above 0');
      if (!maxMs.ok) return maxMs;
      if (maxMs.value === undefined) return bad(`${n}: give the latency limit in milliseconds.`);
      return { ok: true, value: { type: 'latency', maxMs: maxMs.value } };
    }
    case 'cost': {
      const maxUsd = number(row.value, `${n}: the cost limit`, (v) => v > 0, 'is a number of dollars above 0');
      if (!maxUsd.ok) return maxUsd;
      if (maxUsd.value === undefined) return bad(`${n}: give the most a call may cost, in dollars.`);
      return { ok: true, value: { type: 'cost', maxUsd: maxUsd.value } };
    }
    case 'semantic_similarity':
    case 'llm_judge': {
      const model = row.model.trim();
      const what = row.type === 'llm_judge' ? 'judge model' : 'embedding model';
      if (!model) return bad(`${n}: name the ${what}.`);
      const threshold = number(row.threshold, `${n}: the threshold`, (v) => v >= 0 && v <= 1, 'is a number from 0 to 1');
      if (!threshold.ok) return threshold;
      let baseUrl: string | undefined;
      if (row.provider === 'openai_compatible') {
        const url = httpUrl(row.baseUrl, `${n}: the ${what}`);
        if (!url.ok) return url;
        baseUrl = url.value;
      }
      if (row.type === 'semantic_similarity') {
        return {
          ok: true,
          value: { type: 'semantic_similarity', provider: row.provider, model, threshold: threshold.value ?? 0.8, ...(baseUrl ? { baseUrl } : {}) },
        };
      }
      const judge: ExperimentModelConfig = { id: 'judge', provider: row.provider, model, ...(baseUrl ? { baseUrl } : {}) };
      return {
        ok: true,
        value: {
          type: 'llm_judge',
          judge,
          ...(row.value.trim() ? { rubric: row.value } : {}),
          ...(threshold.value !== undefined ? { threshold: threshold.value } : {}),
        },
      };
    }
    default:
      return bad(`${n}: unknown scorer "${String(row.type)}".`);
  }
}

/** What the estimate needs; the name and baseline are only checked for a start. */
export function parseRun(values: FormValues): Parsed<RunBody> {
  if (!values.datasetId) return bad('Choose the dataset to run on.');
  if (values.configs.length === 0) return bad('Add at least one model configuration.');
  const configs: ExperimentModelConfig[] = [];
  for (const [i, row] of values.configs.entries()) {
    const parsed = parseConfig(row, `Configuration ${i + 1}`);
    if (!parsed.ok) return parsed;
    configs.push(parsed.value);
  }
  const ids = configs.map((c) => c.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) return bad(`Two configurations are both named "${twice}": give them different labels (e.g. ${twice}@t0 and ${twice}@t1).`);
  const scorers: ExperimentScorer[] = [];
  for (const [i, row] of values.scorers.entries()) {
    const parsed = parseScorer(row, `Scorer ${i + 1}`);
    if (!parsed.ok) return parsed;
    if (parsed.value) scorers.push(parsed.value);
  }
  const repetitions = wholeNumber(values.repetitions, 'Repetitions', 1, 20, 1);
  if (!repetitions.ok) return repetitions;
  const body: RunBody = { datasetId: values.datasetId, configs, scorers, repetitions: repetitions.value };
  if (str(values.datasetVersion) !== '') {
    const version = wholeNumber(values.datasetVersion, 'The dataset version', 0, Number.MAX_SAFE_INTEGER, 0);
    if (!version.ok) return version;
    body.datasetVersion = version.value;
  }
  return { ok: true, value: body };
}

export function parseStart(values: FormValues): Parsed<StartBody> {
  const run = parseRun(values);
  if (!run.ok) return run;
  const name = values.name.trim();
  if (!name) return bad('Give the experiment a name, e.g. “support answers: gpt-4o-mini vs claude-haiku-4-5”.');
  const concurrency = wholeNumber(values.concurrency, 'Concurrency', 1, 64, 4);
  if (!concurrency.ok) return concurrency;
  return {
    ok: true,
    value: {
      ...run.value,
      name,
      concurrency: concurrency.value,
      ...(values.baselineExperimentId ? { baselineExperimentId: values.baselineExperimentId } : {}),
    },
  };
}
