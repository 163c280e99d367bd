// `pnpm start`: the collector (OTLP + JSON API on :4318, embedded ClickHouse unless CLICKHOUSE_URL
// is set) and the dashboard (:3000), sharing one API key, until Ctrl-C.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dataDir = resolve(process.env.PARALLAX_DATA_DIR ?? join(root, '.parallax'));
const collectorPort = process.env.PARALLAX_COLLECTOR_PORT ?? '4318';
const dashboardPort = process.env.PARALLAX_DASHBOARD_PORT ?? '3000';
// The dashboard has no login of its own and acts with an admin key: it listens on this machine
// only unless told otherwise (docker-compose sets HOST itself).
const dashboardHost = process.env.PARALLAX_DASHBOARD_HOST ?? '127.0.0.1';
const apiKey = process.env.PARALLAX_API_KEY ?? localKey();

buildDashboardIfStale();

const children: ChildProcess[] = [];
const collector = run('collector', ['collector/src/main.ts'], {
  PORT: collectorPort,
  PARALLAX_DATA_DIR: dataDir,
  PARALLAX_API_KEY: apiKey,
});
await waitForHealth(`http://127.0.0.1:${collectorPort}/health`, collector);
run('dashboard', ['dashboard/build/index.js'], {
  PORT: dashboardPort,
  HOST: dashboardHost,
  PARALLAX_COLLECTOR_URL: `http://127.0.0.1:${collectorPort}`,
  PARALLAX_API_KEY: apiKey,
});
console.log(`
  Parallax is running
    dashboard   http://localhost:${dashboardPort}
    collector   http://localhost:${collectorPort}  (OTLP/HTTP: POST /v1/traces)
    API key     ${apiKey}

  In your app:  PARALLAX_API_KEY=${apiKey}
                import { init, wrap } from '@parallax/sdk'; init(); const openai = wrap(new OpenAI());
`);

/**
 * Without PARALLAX_API_KEY, a key is made on first start and kept beside the data (like a local
 * .env), so the dashboard and your apps keep working across restarts.
 */
function localKey(): string {
  const file = join(dataDir, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const key = `px_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

function buildDashboardIfStale(): void {
  const built = join(root, 'dashboard/build/index.js');
  const sourcesChanged = existsSync(built) ? newestMtime(join(root, 'dashboard/src')) > statSync(built).mtimeMs : true;
  if (!sourcesChanged) return;
  console.log('parallax: building the dashboard');
  const result = spawnSync('pnpm', ['--filter', '@parallax/dashboard', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function run(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    console.error(`parallax: the ${name} stopped (${signal ?? `exit ${code}`}); stopping everything`);
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(`parallax: the collector did not answer ${url} within 60 s`);
  shutdown(1);
}

function shutdown(code: number): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exit(code);
}

process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
