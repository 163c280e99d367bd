// Starts Parallax the way a user does: the collector and the built dashboard as their own Node
// processes, on free ports, with a fresh embedded ClickHouse directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');

export interface Parallax {
  collectorUrl: string;
  dashboardUrl: string;
  apiKey: string;
  /** GET a collector JSON API path with the key. */
  api<T>(path: string): Promise<T>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra environment for the collector process, e.g. provider keys and base URLs of local stand-ins. */
  env?: Record<string, string>;
}

export async function startParallax(options: StartOptions = {}): Promise<Parallax> {
  const apiKey = `px_${randomBytes(18).toString('base64url')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'parallax-e2e-'));
  const collectorPort = await freePort();
  const dashboardPort = await freePort();
  const collectorUrl = `http://127.0.0.1:${collectorPort}`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}`;
  const built = join(root, 'dashboard/build/index.js');
  if (!existsSync(built)) {
    throw new Error('dashboard/build/index.js is missing: run `pnpm --filter @parallax/dashboard build` (pnpm test does)');
  }

  const collector = launch('collector', [join(root, 'collector/src/main.ts')], {
    PORT: String(collectorPort),
    HOST: '127.0.0.1',
    PARALLAX_DATA_DIR: dataDir,
    PARALLAX_API_KEY: apiKey,
    ...options.env,
  });
  await waitForOk(`${collectorUrl}/health`, collector);
  const dashboard = launch('dashboard', [built], {
    PORT: String(dashboardPort),
    HOST: '127.0.0.1',
    PARALLAX_COLLECTOR_URL: collectorUrl,
    PARALLAX_API_KEY: apiKey,
    ORIGIN: dashboardUrl,
  });
  await waitForOk(dashboardUrl, dashboard);

  return {
    collectorUrl,
    dashboardUrl,
    apiKey,
    async api<T>(path: string) {
      const response = await fetch(`${collectorUrl}${path}`, { headers: { authorization: `Bearer ${apiKey}` } });
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    },
    async stop() {
      await Promise.all([stopProcess(dashboard), stopProcess(collector)]);
    },
  };
}

interface Launched {
  child: ChildProcess;
  output: string[];
}

function launch(name: string, args: string[], env: Record<string, string>): Launched {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(`[${name}] ${chunk.toString()}`);
    if (output.length > 200) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output };
}

async function waitForOk(url: string, launched: Launched): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (launched.child.exitCode !== null) break;
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not come up:\n${launched.output.join('')}`);
}

async function stopProcess({ child }: Launched): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
    server.on('error', reject);
  });
}
