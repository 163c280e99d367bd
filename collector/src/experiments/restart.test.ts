// A collector that dies mid-run (SIGKILL: no chance to clean up) leaves its experiment "running" in
// storage; the next collector on the same data directory must say what happened rather than show a run
// that never moves again.
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResponse, ExperimentSummary } from '../api/contract.ts';
import { generateKey } from '../store/projects.ts';
import { startTestCollector, type TestCollector } from '../test-support.ts';

let openai: OpenAIServer;
let child: ChildProcess | undefined;
let restarted: TestCollector | undefined;
const dataDir = mkdtempSync(join(tmpdir(), 'parallax-restart-'));
const apiKey = generateKey();

beforeAll(async () => {
  openai = await startOpenAIServer();
});

afterAll(async () => {
  child?.kill('SIGKILL');
  await restarted?.close();
  await openai?.close();
});

async function call<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await response.json()) as T;
}

/** The collector as its own process (`node src/main.ts`), provider settings from its environment. */
async function startChild(): Promise<string> {
  const process_ = spawn(process.execPath, [resolve(import.meta.dirname, '../main.ts')], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      PARALLAX_DATA_DIR: dataDir,
      PARALLAX_API_KEY: apiKey,
      PARALLAX_RETENTION_INTERVAL_SECONDS: '0',
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = process_;
  let output = '';
  return new Promise((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${output}`)), 60_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on :(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(`http://127.0.0.1:${match[1]}`);
      }
    };
    process_.stdout!.on('data', read);
    process_.stderr!.on('data', read);
    process_.once('exit', (code) => reject(new Error(`collector exited with ${code}:\n${output}`)));
  });
}

describe('a collector restart', () => {
  it('marks an experiment the dead process left running as failed, with the reason and what was stored', async () => {
    const url = await startChild();
    const dataset = await call<{ dataset: { id: string } }>(url, 'POST', '/api/v1/datasets', { name: 'one question' });
    await call(url, 'POST', `/api/v1/datasets/${dataset.dataset.id}/items`, {
      items: [{ input: { messages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }] } }],
    });
    openai.enqueue({ delayMs: 30_000 });
    const started = await call<{ experiment: ExperimentSummary }>(url, 'POST', '/api/v1/experiments', {
      name: 'interrupted',
      datasetId: dataset.dataset.id,
      configs: [{ id: 'gpt', provider: 'openai', model: 'gpt-4o-mini' }],
    });
    const id = started.experiment.id;
    for (let i = 0; openai.requests.length === 0; i++) {
      if (i > 200) throw new Error('the experiment never called the model');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await call<ExperimentResponse>(url, 'GET', `/api/v1/experiments/${id}`)).experiment.status).toBe('running');

    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));

    restarted = await startTestCollector({ dataDir, apiKey });
    const { status, body } = await restarted.api<ExperimentResponse>(`/api/v1/experiments/${id}`, apiKey);
    expect(status).toBe(200);
    expect(body.experiment.status).toBe('failed');
    expect(body.experiment.statusReason).toContain('the collector stopped while this experiment was running (0 of 1 calls were stored)');
    expect(body.experiment.finishedAt).not.toBeNull();
  });
});
