// `pnpm bench`: runs every benchmark in this folder one after another, each in its own process
// (embedded ClickHouse allows one engine per process, and a benchmark must not inherit another's
// warm heap), or only the ones named: `node run.ts collector-ingest.ts`.
// A benchmark is a top-level .ts file here; shared code lives in lib/, tests end in .test.ts, and
// the span generator is a module the collector benchmarks import.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';

const NOT_BENCHMARKS = new Set(['run.ts', 'span-generator.ts']);
const here = import.meta.dirname;
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !NOT_BENCHMARKS.has(f))
  .sort();
const asked = process.argv.slice(2).map((a) => basename(a));
const unknown = asked.filter((a) => !all.includes(a));
if (unknown.length) {
  console.error(`no benchmark named ${unknown.join(', ')}; there are: ${all.join(', ')}`);
  process.exit(2);
}
const chosen = asked.length ? asked : all;

const failed: string[] = [];
for (const file of chosen) {
  console.log(`\n━━ ${file} ━━`);
  const started = performance.now();
  const result = spawnSync(process.execPath, [join(here, file)], { stdio: 'inherit', cwd: here, env: process.env });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  if (result.status !== 0) failed.push(file);
  console.log(`━━ ${file}: ${result.status === 0 ? 'done' : `FAILED (exit ${result.status ?? result.signal})`} in ${seconds} s`);
}
if (failed.length) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
