// The `parallax` bin as CI runs it: a child process, a local JSONL dataset, the provider stand-ins for models.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAnthropicServer, startGeminiServer, startOpenAIServer, type AnthropicServer, type GeminiServer, type OpenAIServer } from '@parallax/testing';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

let openai: OpenAIServer;
let anthropic: AnthropicServer;
let gemini: GeminiServer;
let dir: string;

beforeAll(async () => {
  [openai, anthropic, gemini] = await Promise.all([startOpenAIServer(), startAnthropicServer(), startGeminiServer()]);
});
afterAll(async () => {
  await Promise.all([openai.close(), anthropic.close(), gemini.close()]);
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parallax-cli-'));
  openai.requests.length = 0;
  anthropic.requests.length = 0;
  gemini.requests.length = 0;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function env(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const out: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
    ANTHROPIC_API_KEY: 'sk-ant-test',
    ANTHROPIC_BASE_URL: anthropic.url,
    GEMINI_API_KEY: 'gm-test',
    GEMINI_BASE_URL: gemini.url,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(out).filter((e): e is [string, string] => e[1] !== undefined));
}

function parallax(args: string[], environment = env()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: environment, cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Items in the collector's JSONL export format: { input, expectedOutput, assertions, metadata, source }. */
function dataset(lines: unknown[]): string {
  const path = join(dir, 'dataset.jsonl');
  writeFileSync(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

function question(text: string, extra: Record<string, unknown> = {}) {
  return {
    input: { systemInstructions: [{ type: 'text', content: 'Be brief.' }], messages: [{ role: 'user', parts: [{ type: 'text', content: text }] }], toolDefinitions: null, params: null },
    expectedOutput: null,
    assertions: [],
    metadata: {},
    source: null,
    ...extra,
  };
}

const THREE_ITEMS = [
  question('Refund window?', { metadata: { id: 'refund' }, assertions: [{ type: 'contains', value: '30 days' }] }),
  question('Shipping time?', { metadata: { id: 'shipping' } }),
  question('Store hours?'),
];

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name) });

function readJunit(path: string) {
  const text = readFileSync(path, 'utf8');
  expect(XMLValidator.validate(text)).toBe(true);
  return parser.parse(text).testsuites;
}

// Each case starts Node processes; on a busy machine one start takes seconds.
describe('parallax eval', { timeout: 120_000 }, () => {
  it('exits 0 when every configuration meets the threshold, and writes JUnit, Markdown and JSON', async () => {
    openai.enqueue({ text: 'Within 30 days.', usage: { input_tokens: 20, output_tokens: 5 } }, { text: 'Two days.' }, { text: '9 to 5.' });
    anthropic.enqueue({ text: 'Refunds take 30 days max.' }, { text: 'Three days.' }, { text: 'Nine to five.' });
    gemini.enqueue({ text: 'Up to 30 days.' }, { text: 'A week.' }, { text: '9-17.' });
    const path = dataset(THREE_ITEMS);
    const run = await parallax([
      'eval', '--dataset', path,
      '--config', 'openai:gpt-4o-mini', '--config', 'anthropic:claude-haiku-4-5', '--config', 'gem=gemini:gemini-2.5-flash',
      '--param', 'temperature=0', '--scorer', 'max_length=40', '--concurrency', '1', '--threshold', '0.9',
      '--junit', 'out.xml', '--markdown', 'summary.md', '--json', 'results.json',
    ]);
    expect(run.stderr).toContain('3 items × 3 configurations × 1');
    expect(run.code).toBe(0);

    // The summary table, one row per configuration: 3 calls, none failed, pass rate 100%.
    const rows = run.stdout.split('\n').filter((l) => /^(openai:|anthropic:|gem )/.test(l));
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toMatch(/\s3\s+0\s+100\.0%\s+1\.000 \[1\.000, 1\.000\]/);
    // gpt-4o-mini is priced ($0.15/M in, $0.60/M out), so its row has a cost; the others too (known models).
    expect(rows[0]).toMatch(/\$\d/);

    const junit = readJunit(join(dir, 'out.xml'));
    expect(junit).toMatchObject({ tests: '9', failures: '0', errors: '0' });
    expect(junit.testsuite.map((s: any) => [s.name, s.tests, s.failures])).toEqual([
      ['openai:gpt-4o-mini', '3', '0'],
      ['anthropic:claude-haiku-4-5', '3', '0'],
      ['gem', '3', '0'],
    ]);
    expect(junit.testsuite[0].testcase.map((c: any) => c.name)).toEqual(['refund', 'shipping', 'line-3']);

    const markdown = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(markdown).toContain(`## Parallax eval: ${path}`);
    expect(markdown).toContain('**Passed** (threshold 90.0%)');
    expect(markdown).toMatch(/\| ✅ openai:gpt-4o-mini \| 3 \| 0 \| 100\.0% \|/);

    const saved = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(saved.results).toHaveLength(9);
    expect(saved.summaries.map((s: any) => s.configId)).toEqual(['openai:gpt-4o-mini', 'anthropic:claude-haiku-4-5', 'gem']);
    expect(openai.requests[0]!.body).toMatchObject({ temperature: 0, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Refund window?' }] });
  });

  it('exits 1 when a pass rate is under the threshold, and reports why in JUnit and Markdown', async () => {
    openai.enqueue({ text: 'We do <not> do refunds & "never" will.' }, { text: 'Two days.' }, { status: 500, error: { message: 'boom', type: 'server_error' } }, { status: 500, error: { message: 'boom', type: 'server_error' } });
    const run = await parallax(['eval', '--dataset', dataset(THREE_ITEMS), '--config', 'openai:gpt-4o-mini', '--concurrency', '1', '--retries', '1', '--threshold', '0.9', '--junit', 'out.xml', '--markdown', 'summary.md']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('openai:gpt-4o-mini: pass rate 33.3% is under the threshold 90.0%');
    expect(run.stdout).toContain('refund: assertion:contains: does not contain "30 days"');

    const junit = readJunit(join(dir, 'out.xml'));
    const [suite] = junit.testsuite;
    expect(suite).toMatchObject({ name: 'openai:gpt-4o-mini', tests: '3', failures: '1', errors: '1' });
    const [refund, shipping, hours] = suite.testcase;
    // The answer's <, &, and quotes survive the round trip through XML.
    expect(refund.failure.message).toBe('assertion:contains: does not contain "30 days": "We do <not> do refunds & \\"never\\" will."');
    expect(refund.failure['#text']).toContain('output: We do <not> do refunds & "never" will.');
    expect(shipping.failure).toBeUndefined();
    expect(hours.error.message).toBe('HTTP 500: 500 boom');

    const markdown = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(markdown).toContain('**Failed:** openai:gpt-4o-mini: pass rate 33.3% is under the threshold 90.0%');
    expect(markdown).toContain('| ❌ openai:gpt-4o-mini |');
    expect(markdown).toContain('| openai:gpt-4o-mini | line-3 | error: HTTP 500: 500 boom |');
  });

  it('exits 1 on a regression against a baseline from an earlier --json, naming the item', async () => {
    const path = dataset(THREE_ITEMS);
    openai.enqueue({ text: '30 days.' }, { text: 'Two days.' }, { text: '9 to 5.' });
    const first = await parallax(['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--concurrency', '1', '--json', 'baseline.json']);
    expect(first.code).toBe(0);

    openai.enqueue({ text: 'No refunds.' }, { text: 'Two days.' }, { text: '9 to 5.' });
    const second = await parallax(['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--concurrency', '1', '--baseline', 'baseline.json', '--markdown', 'summary.md']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('openai:gpt-4o-mini: 1 item passed in the baseline (openai:gpt-4o-mini) and fail now: refund');
    expect(second.stdout).toMatch(/openai:gpt-4o-mini vs the baseline: 1 regression \(refund\), 0 improvements; mean Δ −0\.333 .* p = 1\.00 \(exact sign-flip permutation \(n=3\)\)/);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('### Against the baseline');
  });

  it('exits 2 with a clear message on usage and configuration errors, before calling any model', async () => {
    const path = dataset(THREE_ITEMS);
    const cases: Array<[string[], Record<string, string | undefined>, string]> = [
      [['eval', '--config', 'openai:gpt-4o-mini'], {}, '--dataset is required'],
      [['eval', '--dataset', path, '--config', 'mistral:large'], {}, 'unknown provider "mistral"'],
      [['eval', '--dataset', path, '--config', 'anthropic:claude-haiku-4-5'], { ANTHROPIC_API_KEY: undefined }, 'config anthropic:claude-haiku-4-5: set ANTHROPIC_API_KEY to call anthropic'],
      [['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--scorer', 'regex=(unclosed'], {}, '--scorer regex=(unclosed: Invalid regular expression'],
      [['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--threshold', '90'], {}, '--threshold: expected a number from 0 to 1, got "90"'],
      [['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--baseline', 'missing.json'], {}, '--baseline missing.json: cannot read it as JSON'],
      [['eval', '--dataset', join(dir, 'nope.jsonl'), '--config', 'openai:gpt-4o-mini'], {}, 'cannot read the file (ENOENT)'],
      [['eval', '--dataset', path, '--config', 'openai:gpt-4o-mini', '--frobnicate'], {}, "Unknown option '--frobnicate'"],
      [['frobnicate'], {}, 'unknown command "frobnicate"'],
    ];
    for (const [args, overrides, message] of cases) {
      const run = await parallax(args, env(overrides));
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toContain(message);
    }
    const broken = join(dir, 'broken.jsonl');
    writeFileSync(broken, `${JSON.stringify(question('ok'))}\n{"input": \n`);
    const run = await parallax(['eval', '--dataset', broken, '--config', 'openai:gpt-4o-mini']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--dataset ${broken} line 2: not JSON`);
    const rubric = dataset([question('Be nice', { assertions: [{ type: 'rubric', rubric: 'polite' }] })]);
    const noJudge = await parallax(['eval', '--dataset', rubric, '--config', 'openai:gpt-4o-mini']);
    expect(noJudge.code).toBe(2);
    expect(noJudge.stderr).toContain('item line-1 has a rubric assertion, and no judge model grades it');
    expect(openai.requests.length + anthropic.requests.length + gemini.requests.length).toBe(0);
  });

  it('exits 2 when every call of a configuration failed (a wrong key), after writing the reports', async () => {
    const unauthorized = { status: 401, error: { type: 'authentication_error', message: 'invalid x-api-key' } };
    anthropic.enqueue(unauthorized, unauthorized, unauthorized);
    const run = await parallax(['eval', '--dataset', dataset(THREE_ITEMS), '--config', 'openai:gpt-4o-mini', '--config', 'anthropic:claude-haiku-4-5', '--junit', 'out.xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('config anthropic:claude-haiku-4-5: every call failed (first: HTTP 401: 401 invalid x-api-key); check its key, model name and base URL');
    // A 401 is not retried.
    expect(anthropic.requests).toHaveLength(3);
    expect(readJunit(join(dir, 'out.xml')).testsuite[1]).toMatchObject({ name: 'anthropic:claude-haiku-4-5', tests: '3', errors: '3' });
  });

  it('on Ctrl-C stops, aborts the call in flight and still writes the reports for what finished', async () => {
    openai.enqueue({ text: 'Within 30 days.' }, { text: 'stuck', stallAfterEvents: 1 });
    const child = spawn(process.execPath, [MAIN, 'eval', '--dataset', dataset(THREE_ITEMS), '--config', 'openai:gpt-4o-mini', '--concurrency', '1', '--junit', 'out.xml'], { env: env(), cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const waitForSecondRequest = setInterval(() => {
      if (openai.requests.length === 2) {
        clearInterval(waitForSecondRequest);
        child.kill('SIGINT');
      }
    }, 10);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(stderr).toContain('interrupted; 1 call finished and reported');
    const junit = readJunit(join(dir, 'out.xml'));
    expect(junit).toMatchObject({ tests: '1', failures: '0', errors: '0' });
    expect(openai.requests).toHaveLength(2);
  });

  it('runs repetitions and a judge scorer from the command line', async () => {
    openai.enqueue({ text: 'Refunds within 30 days.' }, { text: 'Refunds within 30 days, sorry.' });
    anthropic.enqueue({ text: '```json\n{"score": 1, "pass": true, "reason": "Right."}\n```' }, { text: 'Verdict: {"score": 0.2, "pass": false, "reason": "Apologises needlessly."}' });
    const run = await parallax([
      'eval', '--dataset', dataset([THREE_ITEMS[0]]), '--config', 'openai:gpt-4o-mini', '--repetitions', '2', '--concurrency', '1',
      '--scorer', 'judge=anthropic:claude-haiku-4-5,threshold=0.5,max_tokens=300,rubric=Correct, and no apologies', '--junit', 'out.xml',
    ]);
    expect(run.code).toBe(0);
    const [suite] = readJunit(join(dir, 'out.xml')).testsuite;
    expect(suite.testcase.map((c: any) => c.name)).toEqual(['refund #1', 'refund #2']);
    expect(suite.testcase[1].failure.message).toBe('llm_judge: judge anthropic:claude-haiku-4-5: Apologises needlessly. (score 0.2)');
    const judgePrompt = (anthropic.requests[0]!.body as any).messages[0].content[0].text as string;
    expect(judgePrompt).toContain('## Rubric\n\nCorrect, and no apologies');
    expect((anthropic.requests[0]!.body as any).max_tokens).toBe(300);
  });
});
