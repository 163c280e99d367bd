// The package as an app outside this workspace gets it: `pnpm pack` (which builds through `prepack` and applies
// `publishConfig`), unpacked into a fresh app folder, then a real CommonJS script (`require('@parallax/sdk')`) and a
// real ES module script, each wrapping the real `openai` client and calling the local stand-in, must get their spans.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startOpenAIServer, type OpenAIServer } from '@parallax/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const sdk = import.meta.dirname;
let app: string;
let server: OpenAIServer;

/** pnpm as the test runner was started with it (`pnpm test`), else the one on PATH. */
function pnpm(args: string[], cwd: string): void {
  const execPath = process.env.npm_config_user_agent?.startsWith('pnpm/') ? process.env.npm_execpath : undefined;
  execFileSync(execPath ?? 'pnpm', args, { cwd, stdio: 'pipe' });
}

/** Links a package the way an install would place it, from this workspace's install. */
function link(name: string): void {
  const target = join(app, 'node_modules', name);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(realpathSync(join(sdk, 'node_modules', name)), target, 'dir');
}

beforeAll(async () => {
  server = await startOpenAIServer();
  app = mkdtempSync(join(tmpdir(), 'parallax-sdk-app-'));
  const packs = join(app, 'packs');
  mkdirSync(packs);
  pnpm(['pack', '--pack-destination', packs], sdk);
  const tarball = join(packs, readdirSync(packs).find((f) => f.endsWith('.tgz'))!);
  execFileSync('tar', ['xzf', tarball, '-C', packs]);
  mkdirSync(join(app, 'node_modules', '@parallax'), { recursive: true });
  renameSync(join(packs, 'package'), join(app, 'node_modules', '@parallax', 'sdk'));
  const manifest = JSON.parse(readFileSync(join(app, 'node_modules', '@parallax', 'sdk', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const name of [...Object.keys(manifest.dependencies), 'openai']) link(name);
});

afterAll(async () => {
  await server?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

interface Reported {
  /** The file `@parallax/sdk` resolved to. */
  entry: string;
  answer: string;
  adapters: string[];
  spans: Array<{ name: string; attributes: Record<string, unknown> }>;
}

/**
 * Runs `source` as `file` in the app folder with plain Node (no loader, no type stripping involved). Asynchronously:
 * the stand-in answering the app lives in this process.
 */
async function run(file: string, source: string): Promise<Reported> {
  writeFileSync(join(app, file), source);
  const child = spawn(process.execPath, [file], { cwd: app, env: { ...process.env, OPENAI_BASE_URL: server.url } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as Reported;
}

// The same app, in both module systems: wrap the client, make one call, report what the in-memory exporter got.
const body = (load: string) => `${load}
async function main() {
  const exporter = new InMemorySpanExporter();
  init({ exporter });
  const openai = wrap(new OpenAI({ apiKey: 'test', baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 }));
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from a packaged app' }] });
  await flush();
  const spans = exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes }));
  await shutdown();
  process.stdout.write(JSON.stringify({ answer: completion.choices[0].message.content, adapters: Object.keys(adapters).sort(), spans, entry: ENTRY }));
}
main().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the packed @parallax/sdk', () => {
  it('a CommonJS app requires it and gets its spans', async () => {
    const reported = await run(
      'app.cjs',
      body(`const { init, wrap, flush, shutdown } = require('@parallax/sdk');
const adapters = require('@parallax/sdk/adapters');
const { InMemorySpanExporter } = require('@opentelemetry/sdk-trace');
const OpenAI = require('openai');
const ENTRY = require.resolve('@parallax/sdk');`),
    );
    expect(reported.entry).toMatch(/dist\/cjs\/index\.cjs$/);
    expect(reported.answer).toBe('Echo: Hello from a packaged app');
    expect(reported.adapters).toEqual(['anthropic', 'google', 'openai']);
    expect(reported.spans).toHaveLength(1);
    expect(reported.spans[0]!.name).toBe('chat gpt-4o-mini');
    expect(reported.spans[0]!.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai_compatible' });
    expect(reported.spans[0]!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  });

  it('an ES module app imports it and gets its spans', async () => {
    const reported = await run(
      'app.mjs',
      body(`import { init, wrap, flush, shutdown } from '@parallax/sdk';
import * as adapters from '@parallax/sdk/adapters';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import OpenAI from 'openai';
const ENTRY = import.meta.resolve('@parallax/sdk');`),
    );
    expect(reported.entry).toMatch(/dist\/esm\/index\.js$/);
    expect(reported.answer).toBe('Echo: Hello from a packaged app');
    expect(reported.adapters).toEqual(['anthropic', 'google', 'openai']);
    expect(reported.spans.map((s) => s.name)).toEqual(['chat gpt-4o-mini']);
    expect(reported.spans[0]!.attributes['gen_ai.input.messages']).toContain('Hello from a packaged app');
  });

  it('its declarations type-check a TypeScript app in both module systems (and are not `any`)', () => {
    const usage = (load: string) => `${load}
const result: InitResult = init({ captureContent: false });
const client: OpenAI = wrap(new OpenAI({ apiKey: 'k' }));
// @ts-expect-error wrap() keeps the client's type, so this must not compile
const wrong: number = wrap(new OpenAI({ apiKey: 'k' }));
const messages: ChatMessage[] = adapters.openai.toGenAI({ messages: [{ role: 'user', content: 'hi' }] }).inputMessages;
export { result, client, wrong, messages };
`;
    writeFileSync(join(app, 'types-esm.mts'), usage(`import { init, wrap, type InitResult, type ChatMessage } from '@parallax/sdk';
import * as adapters from '@parallax/sdk/adapters';
import OpenAI from 'openai';`));
    writeFileSync(join(app, 'types-cjs.cts'), usage(`import { init, wrap, type InitResult, type ChatMessage } from '@parallax/sdk';
import adapters = require('@parallax/sdk/adapters');
import OpenAI from 'openai';`));
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: [], skipLibCheck: true }, files: ['types-esm.mts', 'types-cjs.cts'] }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const checked = spawnSync(process.execPath, [tsc, '-p', app], { cwd: app, encoding: 'utf8' });
    expect(checked.stdout).toBe('');
    expect(checked.status).toBe(0);
  });

  it('ships JavaScript and declarations only, and a parallax bin that runs', () => {
    const pkg = join(app, 'node_modules', '@parallax', 'sdk');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { bin: Record<string, string>; exports: unknown };
    expect(JSON.stringify(manifest.exports)).not.toContain('/src/');
    expect(readdirSync(pkg).sort()).toEqual(['README.md', 'dist', 'package.json']);
    const help = spawnSync(process.execPath, [join(pkg, manifest.bin.parallax!), '--help'], { cwd: app, encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: parallax');
  });
});
