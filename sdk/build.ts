// `pnpm --filter @parallax/sdk build` (also run by `pnpm pack` / `pnpm publish` through `prepack`): the package as
// apps outside this workspace load it. In the workspace, `exports` point at the TypeScript sources, which Node ≥ 22.18
// runs as they are; the published manifest (package.json `publishConfig`) points at what this writes instead:
//
//   dist/esm/   ES modules, one per source file, with .d.ts   — tsc (the compiler that checks the code emits it)
//   dist/cjs/   index.cjs and adapters/index.cjs, with .d.cts — rolldown, one CommonJS bundle per entry point
//
// Why two tools: tsc cannot emit CommonJS from this code (the eval library uses `import.meta`, a syntax error in
// CommonJS), and a bundler is the usual way to turn ESM into CJS. rolldown is already in the workspace (Vite's
// bundler) and rewrites `import.meta.resolve` for CJS through `define`. The CJS bundles keep every dependency
// external, so `require('@parallax/sdk')` shares `@opentelemetry/api` (and its global registry) with the app.
//
//   node build.ts [outDir]      (default: dist)
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { build } from 'rolldown';

const root = import.meta.dirname;
const out = resolve(root, process.argv[2] ?? 'dist');
const esm = join(out, 'esm');
const cjs = join(out, 'cjs');
rmSync(out, { recursive: true, force: true });

// ES modules and declarations.
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', esm], { stdio: 'inherit' });

// CommonJS: a bundle per public entry point, dependencies left to `require`.
const entries = { index: 'src/index.ts', 'adapters/index': 'src/adapters/index.ts' };
await build({
  cwd: root,
  input: entries,
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/'),
  transform: { define: { 'import.meta.resolve': 'require.resolve' } },
  output: { dir: cjs, format: 'cjs', entryFileNames: '[name].cjs', chunkFileNames: 'shared/[name]-[hash].cjs' },
  logLevel: 'warn',
});

// Declarations: relative imports name the emitted files (`./init.js`, and `./init.cjs` for the CommonJS copy).
for (const file of walk(esm)) {
  if (!file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, rewriteSpecifiers(text, '.js'));
  const copy = join(cjs, relative(esm, file)).replace(/\.d\.ts$/, '.d.cts');
  mkdirSync(dirname(copy), { recursive: true });
  writeFileSync(copy, rewriteSpecifiers(text, '.cjs'));
}
console.log(`@parallax/sdk built into ${relative(process.cwd(), out) || '.'}: esm/ (tsc) and cjs/ (rolldown), with declarations`);

function rewriteSpecifiers(text: string, extension: string): string {
  return text.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.ts(['"])/g, `$1$2${extension}$3`);
}

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
