// Runs experiments in the background: one run per experiment, results and progress stored as they
// arrive, cancellation that aborts calls in flight, and a clear failure for runs a stopped collector left
// behind. The model calls and scoring themselves are the eval library's (see runner.ts).
import type {
  DatasetItem,
  ExperimentComparison,
  ExperimentConfigSummary,
  ExperimentEstimateResponse,
  ExperimentModelConfig,
  ExperimentResultRow,
  ExperimentResultsResponse,
  ExperimentScorer,
  ExperimentSummary,
} from '../api/contract.ts';
import type { DatasetStore } from '../store/datasets.ts';
import { isFinished, type ExperimentStore, type StoredResult } from '../store/experiments.ts';
import type { PriceOverrideStore } from '../store/price-overrides.ts';
import { ESTIMATE_METHOD, estimateConfigs } from './estimate.ts';
import { missingCredentials, type ProviderEnv } from './providers.ts';
import type { CreateExperimentBody } from './schema.ts';

/** What the service needs from the eval library, in the collector's stored shapes. */
export interface ExperimentRunner {
  /** Calls every configuration on every item; resolves when all calls are done or `signal` aborted them. */
  run(request: RunRequest): Promise<void>;
  /** Scores stored answers again (no calls to the models under test). */
  rescore(projectId: string, experimentId: string, results: StoredResult[], items: DatasetItem[], scorers: ExperimentScorer[]): Promise<StoredResult[]>;
  summarise(results: StoredResult[]): ExperimentConfigSummary[];
  compare(current: StoredResult[], baseline: StoredResult[]): ExperimentComparison[];
}

export interface RunRequest {
  projectId: string;
  experimentId: string;
  items: DatasetItem[];
  configs: ExperimentModelConfig[];
  scorers: ExperimentScorer[];
  repetitions: number;
  /** Per provider. */
  concurrency: number;
  timeoutMs: number;
  retries: number;
  signal: AbortSignal;
  onResult(result: StoredResult): void;
}

export class ExperimentError extends Error {
  readonly status: 400 | 404 | 409 | 422;
  readonly code: string;
  constructor(status: ExperimentError['status'], code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export type ProgressListener = (experiment: ExperimentSummary) => void;

interface LiveRun {
  projectId: string;
  experiment: ExperimentSummary;
  controller: AbortController;
  listeners: Set<ProgressListener>;
  /** Results not yet written. */
  pending: StoredResult[];
  writing: Promise<void>;
  finished: Promise<void>;
  /** Set when the run is stopped on purpose: why, and the status that says so. */
  stop: { status: 'cancelled' | 'failed'; reason: string } | null;
}

export interface ExperimentServiceDeps {
  store: ExperimentStore;
  datasets: DatasetStore;
  priceOverrides: PriceOverrideStore;
  providers: ProviderEnv;
  runner: ExperimentRunner;
}

export class ExperimentService {
  readonly #deps: ExperimentServiceDeps;
  readonly #live = new Map<string, LiveRun>();

  constructor(deps: ExperimentServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Marks experiments a previous process left queued or running as failed: their calls stopped with
   * that process, and a run cannot resume half-way with the same results.
   */
  async recover(): Promise<number> {
    const left = await this.#deps.store.unfinished();
    for (const { projectId, experiment } of left) {
      if (this.#live.has(experiment.id)) continue;
      const stored = await this.#deps.store.storedProgress(projectId, experiment.id);
      await this.#deps.store.save(projectId, {
        ...experiment,
        status: 'failed',
        statusReason: `the collector stopped while this experiment was ${experiment.status} (${stored.done} of ${experiment.progress.total} calls were stored); start it again to finish it`,
        progress: { ...experiment.progress, ...stored },
        finishedAt: new Date().toISOString(),
      });
    }
    return left.length;
  }

  async estimate(projectId: string, body: { datasetId: string; datasetVersion?: number | undefined; configs: ExperimentModelConfig[]; repetitions: number }): Promise<ExperimentEstimateResponse> {
    const { version, items } = await this.#datasetItems(projectId, body.datasetId, body.datasetVersion);
    const rows = estimateConfigs(items, body.configs, body.repetitions, await this.#deps.priceOverrides.forProject(projectId));
    return {
      datasetId: body.datasetId,
      datasetVersion: version,
      items: items.length,
      repetitions: body.repetitions,
      method: ESTIMATE_METHOD,
      configs: rows,
      totalCostUsd: rows.some((r) => r.costUsd === null) ? null : rows.reduce((sum, r) => sum + (r.costUsd ?? 0), 0),
    };
  }

  /** Creates the experiment and starts it in the background; resolves once it is stored as queued. */
  async start(projectId: string, body: CreateExperimentBody): Promise<ExperimentSummary> {
    for (const provider of new Set([...body.configs.map((c) => c.provider), ...judgeProviders(body.scorers)])) {
      const missing = missingCredentials(this.#deps.providers, provider);
      if (missing) throw new ExperimentError(422, 'provider_not_configured', missing);
    }
    const { version, items } = await this.#datasetItems(projectId, body.datasetId, body.datasetVersion);
    if (items.length === 0) throw new ExperimentError(422, 'empty_dataset', `dataset ${body.datasetId} has no items at version ${version}: add test cases first`);
    if (body.baselineExperimentId && !(await this.#deps.store.get(projectId, body.baselineExperimentId))) {
      throw new ExperimentError(404, 'not_found', `no baseline experiment ${body.baselineExperimentId} in this project`);
    }
    const experiment = await this.#deps.store.create(projectId, {
      name: body.name,
      datasetId: body.datasetId,
      datasetVersion: version,
      configs: body.configs,
      scorers: body.scorers,
      repetitions: body.repetitions,
      concurrency: body.concurrency,
      total: items.length * body.configs.length * body.repetitions,
      baselineExperimentId: body.baselineExperimentId ?? null,
    });
    const live: LiveRun = {
      projectId,
      experiment: structuredClone(experiment),
      controller: new AbortController(),
      listeners: new Set(),
      pending: [],
      writing: Promise.resolve(),
      finished: Promise.resolve(),
      stop: null,
    };
    this.#live.set(experiment.id, live);
    live.finished = this.#run(live, items, body).finally(() => this.#live.delete(experiment.id));
    return experiment;
  }

  async list(projectId: string): Promise<ExperimentSummary[]> {
    return (await this.#deps.store.list(projectId)).map((e) => this.#current(projectId, e));
  }

  async get(projectId: string, id: string): Promise<ExperimentSummary | null> {
    const stored = await this.#deps.store.get(projectId, id);
    return stored ? this.#current(projectId, stored) : null;
  }

  /** The experiment with per-configuration summaries and, when it has a baseline, the comparison. */
  async details(projectId: string, id: string): Promise<{ experiment: ExperimentSummary; summaries: ExperimentConfigSummary[]; comparisons: ExperimentComparison[] | null } | null> {
    const experiment = await this.get(projectId, id);
    if (!experiment) return null;
    const results = await this.#deps.store.results(projectId, id, experiment.scoreVersion);
    const summaries = this.#deps.runner.summarise(results);
    let comparisons: ExperimentComparison[] | null = null;
    if (experiment.baselineExperimentId) {
      const baseline = await this.#deps.store.get(projectId, experiment.baselineExperimentId);
      comparisons = baseline ? this.#deps.runner.compare(results, await this.#deps.store.results(projectId, baseline.id, baseline.scoreVersion)) : [];
    }
    return { experiment, summaries, comparisons };
  }

  async results(projectId: string, id: string, options: { disagreements: boolean; scoreVersion?: number | undefined }): Promise<ExperimentResultsResponse | null> {
    const experiment = await this.get(projectId, id);
    if (!experiment) return null;
    const scoreVersion = options.scoreVersion ?? experiment.scoreVersion;
    if (scoreVersion > experiment.scoreVersion) {
      throw new ExperimentError(404, 'not_found', `experiment ${id} has no score version ${scoreVersion} (latest is ${experiment.scoreVersion})`);
    }
    const [results, items] = await Promise.all([
      this.#deps.store.results(projectId, id, scoreVersion),
      this.#deps.datasets.items(projectId, experiment.datasetId, experiment.datasetVersion),
    ]);
    const configOrder = new Map(experiment.configs.map((c, i) => [c.id, i]));
    const byItem = new Map<string, StoredResult[]>();
    for (const result of results) {
      const list = byItem.get(result.itemId) ?? [];
      list.push(result);
      byItem.set(result.itemId, list);
    }
    const itemsById = new Map(items.map((item) => [item.id, item]));
    const order = [...items.map((i) => i.id).filter((itemId) => byItem.has(itemId)), ...[...byItem.keys()].filter((itemId) => !itemsById.has(itemId))];
    const rows: ExperimentResultRow[] = order.map((itemId) => {
      const item = itemsById.get(itemId);
      const cells = (byItem.get(itemId) ?? [])
        .sort((a, b) => (configOrder.get(a.configId) ?? 0) - (configOrder.get(b.configId) ?? 0) || a.repetition - b.repetition)
        .map((r) => ({ ...r, pass: r.error === null && r.scores.every((s) => s.pass) }));
      // A configuration passes an item when every repetition passed.
      const verdicts = new Map<string, boolean>();
      for (const cell of cells) verdicts.set(cell.configId, (verdicts.get(cell.configId) ?? true) && cell.pass);
      return {
        itemId,
        input: item?.input ?? null,
        expectedOutput: item?.expectedOutput ?? null,
        cells,
        disagreement: new Set(verdicts.values()).size > 1,
      };
    });
    return {
      experimentId: id,
      scoreVersion,
      configIds: experiment.configs.map((c) => c.id),
      rows: options.disagreements ? rows.filter((r) => r.disagreement) : rows,
    };
  }

  /** Stops a queued or running experiment; calls in flight are aborted. Results stored so far stay. */
  async cancel(projectId: string, id: string): Promise<ExperimentSummary> {
    const experiment = await this.get(projectId, id);
    if (!experiment) throw new ExperimentError(404, 'not_found', `no experiment ${id} in this project`);
    if (isFinished(experiment.status)) {
      throw new ExperimentError(409, 'already_finished', `experiment ${id} is already ${experiment.status}`);
    }
    const live = this.#live.get(id);
    if (!live) {
      // Left running by a process that is gone: there is nothing to abort, only the record to close.
      await this.recover();
      return (await this.get(projectId, id))!;
    }
    live.stop = { status: 'cancelled', reason: 'cancelled on request' };
    live.controller.abort(new Error('experiment cancelled'));
    await live.finished;
    return (await this.get(projectId, id))!;
  }

  /** A new score set over the stored answers (optionally with other scorers); no model is called again. */
  async rescore(projectId: string, id: string, scorers: ExperimentScorer[] | undefined): Promise<ExperimentSummary> {
    const experiment = await this.get(projectId, id);
    if (!experiment) throw new ExperimentError(404, 'not_found', `no experiment ${id} in this project`);
    if (!isFinished(experiment.status)) {
      throw new ExperimentError(409, 'still_running', `experiment ${id} is ${experiment.status}: rescore it once it has finished`);
    }
    const useScorers = scorers ?? experiment.scorers;
    for (const provider of judgeProviders(useScorers)) {
      const missing = missingCredentials(this.#deps.providers, provider);
      if (missing) throw new ExperimentError(422, 'provider_not_configured', missing);
    }
    const [results, items] = await Promise.all([
      this.#deps.store.results(projectId, id, experiment.scoreVersion),
      this.#deps.datasets.items(projectId, experiment.datasetId, experiment.datasetVersion),
    ]);
    const rescored = await this.#deps.runner.rescore(projectId, id, results, items, useScorers);
    const scoreVersion = experiment.scoreVersion + 1;
    await this.#deps.store.addScores(projectId, id, scoreVersion, rescored);
    const next: ExperimentSummary = { ...experiment, scorers: useScorers, scoreVersion };
    await this.#deps.store.save(projectId, next);
    return next;
  }

  /**
   * Calls `listener` with the experiment whenever its progress or status changes; returns the
   * unsubscribe function, or null when the experiment is not running in this process.
   */
  subscribe(id: string, listener: ProgressListener): (() => void) | null {
    const live = this.#live.get(id);
    if (!live) return null;
    live.listeners.add(listener);
    return () => live.listeners.delete(listener);
  }

  /** Stops every run (the collector is shutting down); each is stored as failed with the reason. */
  async close(): Promise<void> {
    const runs = [...this.#live.values()];
    for (const live of runs) {
      live.stop = { status: 'failed', reason: 'the collector shut down while this experiment was running; start it again to finish it' };
      live.controller.abort(new Error('collector shutting down'));
    }
    await Promise.allSettled(runs.map((r) => r.finished));
  }

  async #run(live: LiveRun, items: DatasetItem[], body: CreateExperimentBody): Promise<void> {
    const { projectId, experiment } = live;
    try {
      experiment.status = 'running';
      experiment.startedAt = new Date().toISOString();
      await this.#deps.store.save(projectId, experiment);
      this.#notify(live);
      await this.#deps.runner.run({
        projectId,
        experimentId: experiment.id,
        items,
        configs: experiment.configs,
        scorers: experiment.scorers,
        repetitions: experiment.repetitions,
        concurrency: experiment.concurrency,
        timeoutMs: body.timeoutMs,
        retries: body.retries,
        signal: live.controller.signal,
        onResult: (result) => {
          // A call that finishes after a cancel is not part of the run any more.
          if (live.stop) return;
          live.pending.push(result);
          experiment.progress.done++;
          if (result.error !== null) experiment.progress.errors++;
          if (result.costUsd !== null) experiment.progress.costUsd += result.costUsd;
          this.#scheduleWrite(live);
          this.#notify(live);
        },
      });
      await this.#scheduleWrite(live);
      experiment.status = live.stop?.status ?? 'completed';
      experiment.statusReason = live.stop?.reason ?? null;
    } catch (error) {
      await this.#scheduleWrite(live).catch(() => undefined);
      experiment.status = live.stop?.status ?? 'failed';
      experiment.statusReason = live.stop?.reason ?? `the run failed: ${(error as Error).message}`;
    }
    experiment.finishedAt = new Date().toISOString();
    try {
      await this.#deps.store.save(projectId, experiment);
    } catch (error) {
      console.error(`parallax collector: could not store the end of experiment ${experiment.id}: ${(error as Error).message}`);
    }
    this.#notify(live);
  }

  /** Writes whatever results have queued up, one write at a time, then the progress with them. */
  #scheduleWrite(live: LiveRun): Promise<void> {
    live.writing = live.writing.then(async () => {
      if (live.pending.length === 0) return;
      const batch = live.pending.splice(0);
      try {
        await this.#deps.store.addResults(live.projectId, live.experiment.id, live.experiment.scoreVersion, batch);
        await this.#deps.store.save(live.projectId, live.experiment);
      } catch (error) {
        console.error(`parallax collector: could not store ${batch.length} results of experiment ${live.experiment.id}: ${(error as Error).message}`);
        live.stop ??= { status: 'failed', reason: `storage refused the results: ${(error as Error).message}` };
        live.controller.abort(error);
      }
    });
    return live.writing;
  }

  #notify(live: LiveRun): void {
    const snapshot = structuredClone(live.experiment);
    for (const listener of live.listeners) {
      try {
        listener(snapshot);
      } catch {
        // A broken listener (a closed stream) must not stop the run.
      }
    }
  }

  /** A running experiment's progress is the live one; stored rows lag behind by a write. */
  #current(projectId: string, stored: ExperimentSummary): ExperimentSummary {
    const live = this.#live.get(stored.id);
    if (!live || live.projectId !== projectId) return stored;
    return { ...structuredClone(live.experiment), scoreVersion: stored.scoreVersion, scorers: stored.scorers };
  }

  async #datasetItems(projectId: string, datasetId: string, wanted: number | undefined): Promise<{ version: number; items: DatasetItem[] }> {
    const dataset = await this.#deps.datasets.get(projectId, datasetId);
    if (!dataset) throw new ExperimentError(404, 'not_found', `no dataset ${datasetId} in this project`);
    const version = wanted ?? dataset.version;
    if (version > dataset.version) {
      throw new ExperimentError(404, 'not_found', `dataset ${datasetId} has no version ${version} (latest is ${dataset.version})`);
    }
    return { version, items: await this.#deps.datasets.items(projectId, datasetId, version) };
  }
}

function judgeProviders(scorers: readonly ExperimentScorer[]): Array<ExperimentModelConfig['provider']> {
  return scorers.flatMap((s) => (s.type === 'llm_judge' ? [s.judge.provider] : s.type === 'semantic_similarity' ? [s.provider] : []));
}
