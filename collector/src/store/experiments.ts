import type {
  ChatMessage,
  ExperimentModelConfig,
  ExperimentProgress,
  ExperimentScore,
  ExperimentScorer,
  ExperimentStatus,
  ExperimentSummary,
} from '../api/contract.ts';
import type { Storage } from './clickhouse.ts';
import { quoteIdentifier } from './clickhouse.ts';
import { sortableId } from './ids.ts';
import { nextVersion, toIso } from './projects.ts';
import { select } from './queries.ts';

/** One call's outcome as stored: item × configuration × repetition, with the scores of one score set. */
export interface StoredResult {
  itemId: string;
  configId: string;
  repetition: number;
  output: string;
  outputMessages: ChatMessage[];
  error: string | null;
  latencyMs: number;
  ttftMs: number | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | null;
  traceId: string | null;
  scores: ExperimentScore[];
}

export interface NewExperiment {
  name: string;
  datasetId: string;
  datasetVersion: number;
  configs: ExperimentModelConfig[];
  scorers: ExperimentScorer[];
  repetitions: number;
  concurrency: number;
  total: number;
  baselineExperimentId: string | null;
}

interface ExperimentRow {
  id: string;
  name: string;
  dataset_id: string;
  dataset_version: number;
  configs: string;
  scorers: string;
  repetitions: number;
  concurrency: number;
  status: string;
  status_reason: string;
  total: number;
  done: number;
  errors: number;
  cost_usd: number;
  baseline_experiment_id: string;
  score_version: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

interface ResultRow {
  item_id: string;
  config_id: string;
  repetition: number;
  output: string;
  output_messages: string;
  error: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number | null;
  trace_id: string;
}

interface ScoreRow {
  item_id: string;
  config_id: string;
  repetition: number;
  scorer: string;
  value: number;
  pass: number;
  reason: string;
  cost_usd: number | null;
}

const FINISHED: readonly ExperimentStatus[] = ['completed', 'cancelled', 'failed'];

export function isFinished(status: ExperimentStatus): boolean {
  return FINISHED.includes(status);
}

/**
 * Experiments, their results and score sets. An experiment is a versioned row (status and
 * progress change); results are one row per call; scores are appended per score version, so a
 * rescore never loses the earlier set.
 */
export class ExperimentStore {
  readonly #storage: Storage;
  readonly #db: string;

  constructor(storage: Storage) {
    this.#storage = storage;
    this.#db = quoteIdentifier(storage.database);
  }

  async create(projectId: string, input: NewExperiment): Promise<ExperimentSummary> {
    const experiment: ExperimentSummary = {
      id: sortableId('exp'),
      name: input.name,
      datasetId: input.datasetId,
      datasetVersion: input.datasetVersion,
      configs: input.configs,
      scorers: input.scorers,
      repetitions: input.repetitions,
      concurrency: input.concurrency,
      status: 'queued',
      statusReason: null,
      progress: { total: input.total, done: 0, errors: 0, costUsd: 0 },
      baselineExperimentId: input.baselineExperimentId,
      scoreVersion: 1,
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
    };
    await this.save(projectId, experiment);
    return experiment;
  }

  /** Writes the experiment's current state as a new row version. */
  async save(projectId: string, experiment: ExperimentSummary): Promise<void> {
    await this.#storage.client.insert({
      table: `${this.#db}.experiments`,
      values: [
        {
          project_id: projectId,
          id: experiment.id,
          name: experiment.name,
          dataset_id: experiment.datasetId,
          dataset_version: experiment.datasetVersion,
          configs: JSON.stringify(experiment.configs),
          scorers: JSON.stringify(experiment.scorers),
          repetitions: experiment.repetitions,
          concurrency: experiment.concurrency,
          status: experiment.status,
          status_reason: experiment.statusReason ?? '',
          total: experiment.progress.total,
          done: experiment.progress.done,
          errors: experiment.progress.errors,
          cost_usd: experiment.progress.costUsd,
          baseline_experiment_id: experiment.baselineExperimentId ?? '',
          score_version: experiment.scoreVersion,
          created_at: Date.parse(experiment.createdAt),
          started_at: experiment.startedAt ? Date.parse(experiment.startedAt) : null,
          finished_at: experiment.finishedAt ? Date.parse(experiment.finishedAt) : null,
          deleted: 0,
          row_version: nextVersion(),
        },
      ],
      format: 'JSONEachRow',
    });
  }

  async list(projectId: string, limit = 200): Promise<ExperimentSummary[]> {
    const rows = await select<ExperimentRow>(
      this.#storage,
      `SELECT * FROM {db}.experiments FINAL WHERE project_id = {project:String} AND deleted = 0
       ORDER BY created_at DESC, id DESC LIMIT {limit:UInt32}`,
      { project: projectId, limit },
    );
    return rows.map(toSummary);
  }

  async get(projectId: string, id: string): Promise<ExperimentSummary | null> {
    const rows = await select<ExperimentRow>(
      this.#storage,
      `SELECT * FROM {db}.experiments FINAL WHERE project_id = {project:String} AND id = {id:String} AND deleted = 0`,
      { project: projectId, id },
    );
    return rows[0] ? toSummary(rows[0]) : null;
  }

  /** Experiments left queued or running in any project: a collector that stopped mid-run leaves these. */
  async unfinished(): Promise<Array<{ projectId: string; experiment: ExperimentSummary }>> {
    const rows = await select<ExperimentRow & { project_id: string }>(
      this.#storage,
      `SELECT * FROM {db}.experiments FINAL WHERE deleted = 0 AND status IN ('queued', 'running')`,
      {},
    );
    return rows.map((row) => ({ projectId: row.project_id, experiment: toSummary(row) }));
  }

  /** Completed experiments of a project that have a configuration on `model`, newest first. */
  async completedWithModel(projectId: string, model: string, limit: number): Promise<ExperimentSummary[]> {
    const rows = await select<ExperimentRow>(
      this.#storage,
      `SELECT * FROM {db}.experiments FINAL
       WHERE project_id = {project:String} AND deleted = 0 AND status = 'completed'
         AND arrayExists(c -> JSONExtractString(c, 'model') = {model:String}, JSONExtractArrayRaw(configs))
       ORDER BY finished_at DESC, id DESC LIMIT {limit:UInt32}`,
      { project: projectId, model, limit },
    );
    return rows.map(toSummary);
  }

  /** Stores results with their scores under `scoreVersion`. */
  async addResults(projectId: string, experimentId: string, scoreVersion: number, results: readonly StoredResult[]): Promise<void> {
    if (results.length === 0) return;
    const now = Date.now();
    await this.#storage.client.insert({
      table: `${this.#db}.experiment_results`,
      values: results.map((r) => ({
        project_id: projectId,
        experiment_id: experimentId,
        item_id: r.itemId,
        config_id: r.configId,
        repetition: r.repetition,
        output: r.output,
        output_messages: JSON.stringify(r.outputMessages),
        error: r.error,
        latency_ms: r.latencyMs,
        ttft_ms: r.ttftMs,
        input_tokens: r.inputTokens,
        output_tokens: r.outputTokens,
        cost_usd: r.costUsd,
        trace_id: r.traceId ?? '',
        created_at: now,
        row_version: nextVersion(),
      })),
      format: 'JSONEachRow',
    });
    await this.addScores(projectId, experimentId, scoreVersion, results);
  }

  /** Appends a score set (or adds to one) for these results. */
  async addScores(
    projectId: string,
    experimentId: string,
    scoreVersion: number,
    results: ReadonlyArray<Pick<StoredResult, 'itemId' | 'configId' | 'repetition' | 'scores'>>,
  ): Promise<void> {
    const now = Date.now();
    const values = results.flatMap((r) =>
      r.scores.map((score, position) => ({
        project_id: projectId,
        experiment_id: experimentId,
        score_version: scoreVersion,
        item_id: r.itemId,
        config_id: r.configId,
        repetition: r.repetition,
        position,
        scorer: score.scorer,
        value: score.value,
        pass: score.pass ? 1 : 0,
        reason: score.reason,
        cost_usd: score.costUsd ?? null,
        created_at: now,
      })),
    );
    if (values.length === 0) return;
    await this.#storage.client.insert({ table: `${this.#db}.experiment_scores`, values, format: 'JSONEachRow' });
  }

  /** Every stored result of an experiment with the scores of `scoreVersion`, in item, configuration, repetition order. */
  async results(projectId: string, experimentId: string, scoreVersion: number): Promise<StoredResult[]> {
    const params = { project: projectId, experiment: experimentId, version: scoreVersion };
    const [rows, scores] = await Promise.all([
      select<ResultRow>(
        this.#storage,
        `SELECT * FROM {db}.experiment_results FINAL
         WHERE project_id = {project:String} AND experiment_id = {experiment:String}
         ORDER BY item_id, config_id, repetition`,
        params,
      ),
      select<ScoreRow>(
        this.#storage,
        `SELECT item_id, config_id, repetition, scorer, value, pass, reason, cost_usd FROM {db}.experiment_scores FINAL
         WHERE project_id = {project:String} AND experiment_id = {experiment:String} AND score_version = {version:UInt32}
         ORDER BY item_id, config_id, repetition, position`,
        params,
      ),
    ]);
    const byCall = new Map<string, ExperimentScore[]>();
    for (const s of scores) {
      const key = callKey(s.item_id, s.config_id, s.repetition);
      const list = byCall.get(key) ?? [];
      list.push({ scorer: s.scorer, value: s.value, pass: s.pass === 1, reason: s.reason, costUsd: s.cost_usd });
      byCall.set(key, list);
    }
    return rows.map((r) => ({
      itemId: r.item_id,
      configId: r.config_id,
      repetition: r.repetition,
      output: r.output,
      outputMessages: JSON.parse(r.output_messages) as ChatMessage[],
      error: r.error,
      latencyMs: r.latency_ms,
      ttftMs: r.ttft_ms,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      costUsd: r.cost_usd,
      traceId: r.trace_id || null,
      scores: byCall.get(callKey(r.item_id, r.config_id, r.repetition)) ?? [],
    }));
  }

  /** Progress as the stored results tell it (for a run no process is tracking any more). */
  async storedProgress(projectId: string, experimentId: string): Promise<Omit<ExperimentProgress, 'total'>> {
    const rows = await select<{ done: number; errors: number; cost: number | null }>(
      this.#storage,
      `SELECT count() AS done, countIf(error IS NOT NULL) AS errors, sum(cost_usd) AS cost
       FROM {db}.experiment_results FINAL WHERE project_id = {project:String} AND experiment_id = {experiment:String}`,
      { project: projectId, experiment: experimentId },
    );
    const row = rows[0];
    return { done: row?.done ?? 0, errors: row?.errors ?? 0, costUsd: row?.cost ?? 0 };
  }
}

function callKey(itemId: string, configId: string, repetition: number): string {
  return `${itemId}\u0000${configId}\u0000${repetition}`;
}

function toSummary(row: ExperimentRow): ExperimentSummary {
  return {
    id: row.id,
    name: row.name,
    datasetId: row.dataset_id,
    datasetVersion: row.dataset_version,
    configs: JSON.parse(row.configs) as ExperimentModelConfig[],
    scorers: JSON.parse(row.scorers) as ExperimentScorer[],
    repetitions: row.repetitions,
    concurrency: row.concurrency,
    status: row.status as ExperimentStatus,
    statusReason: row.status_reason || null,
    progress: { total: row.total, done: row.done, errors: row.errors, costUsd: row.cost_usd },
    baselineExperimentId: row.baseline_experiment_id || null,
    scoreVersion: row.score_version,
    createdAt: toIso(row.created_at),
    startedAt: row.started_at ? toIso(row.started_at) : null,
    finishedAt: row.finished_at ? toIso(row.finished_at) : null,
  };
}
