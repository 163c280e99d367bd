// `parallax eval` as CI runs it: a dataset kept in the collector, models reached through a local
// server that speaks OpenAI's wire format, the calls traced back into the same collector, and the
// exit code gating the build.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetSummary, TraceListResponse, TraceResponse } from '../collector/src/api/contract.ts';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { startParallax, type Parallax } from './support/processes.ts';

const cli = resolve(import.meta.dirname, '../sdk/src/cli/main.ts');
let parallax: Parallax;
let openai: OpenAIServer;
let datasetId: string;

beforeAll(async () => {
  [parallax, openai] = await Promise.all([startParallax(), startOpenAIServer()]);
  const created = await post<{ dataset: DatasetSummary }>('/api/v1/datasets', { name: 'refund answers' });
  datasetId = created.dataset.id;
  const user = (text: string) => ({ role: 'user', parts: [{ type: 'text', content: text }] });
  await post(`/api/v1/datasets/${datasetId}/items`, {
    items: [
      { input: { messages: [user('Can I get a refund?')] }, expectedOutput: 'Yes', assertions: [{ type: 'contains', value: 'refund', ignoreCase: true }] },
      { input: { messages: [user('How long do refunds take?')] }, expectedOutput: '5 days', assertions: [{ type: 'contains', value: 'refund', ignoreCase: true }] },
    ],
  });
});

afterAll(async () => {
  await Promise.all([openai?.close(), parallax?.stop()]);
});

async function post<T = unknown>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${parallax.collectorUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${parallax.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: openai.url, PARALLAX_API_KEY: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describe('parallax eval against a collector', () => {
  it('runs a collector dataset, traces every call into the collector, and passes the gate', async () => {
    openai.enqueue({ text: 'Yes, a refund is possible.' }, { text: 'Refunds take 5 days.' });
    const out = mkdtempSync(join(tmpdir(), 'parallax-cli-'));
    const result = await runCli([
      'eval', '--dataset', datasetId, '--config', 'openai:gpt-4o-mini',
      '--collector', parallax.collectorUrl, '--api-key', parallax.apiKey,
      '--threshold', '1', '--junit', join(out, 'junit.xml'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('gpt-4o-mini');
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(/tests="2"[^>]*failures="0"|failures="0"[^>]*tests="2"/);

    // The two model calls arrived in the collector as traces tagged with the experiment.
    const traces = await parallax.api<TraceListResponse>('/api/v1/traces?tag=experiment');
    expect(traces.traces).toHaveLength(2);
    const { trace } = await parallax.api<TraceResponse>(`/api/v1/traces/${traces.traces[0]!.traceId}`);
    const llm = trace.spans.find((s) => s.llm)!;
    expect(llm.llm).toMatchObject({ requestModel: 'gpt-4o-mini', inputTokens: expect.any(Number) });
    expect(llm.attributes['parallax.metadata.experiment']).toBeTruthy();
    expect(llm.serviceName).toBe('parallax-eval');
  });

  it('fails the gate (exit 1) when an answer misses its assertion', async () => {
    openai.enqueue({ text: 'Yes, a refund is possible.' }, { text: 'About a week.' });
    const result = await runCli([
      'eval', '--dataset', datasetId, '--config', 'openai:gpt-4o-mini',
      '--collector', parallax.collectorUrl, '--api-key', parallax.apiKey, '--threshold', '1',
    ]);
    expect(result.code, result.stderr).toBe(1);
  });

  it('refuses an unknown dataset or a wrong key with exit 2 and a message naming the problem', async () => {
    const unknown = await runCli(['eval', '--dataset', 'ds_nope', '--config', 'openai:gpt-4o-mini', '--collector', parallax.collectorUrl, '--api-key', parallax.apiKey]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ds_nope');
    const wrongKey = await runCli(['eval', '--dataset', datasetId, '--config', 'openai:gpt-4o-mini', '--collector', parallax.collectorUrl, '--api-key', 'px_wrong']);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('refused the API key');
  });
});
