#!/usr/bin/env node
// Runs every package's tests in one `node --test` invocation so CI reads a single summary.
// Node 20's test runner takes no globs, so the files are collected here.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['proto', 'core', 'server', 'client-node', 'client-web', 'scripts'];
const skip = new Set(['node_modules', 'dist', '.data', 'gen']);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (/\.test\.ts$/.test(name)) out.push(relative(root, path));
  }
  return out;
}

const filters = process.argv.slice(2);
const files = roots
  .flatMap((r) => collect(join(root, r), []))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Tests import the .ts sources through tsx, but the ones that spawn the commands
// (`server/bin/mutua-server.js`, `client-node/bin/mutua-client.js`) run the built JavaScript
// in `<package>/dist/`, as operators do: bring it up to date first (a no-op when no source
// changed), so those tests exercise the code in the tree and the build itself.
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.error('the build failed; not running the tests');
  process.exit(build.status ?? 1);
}
// Most test time is spent waiting on child processes and sockets, not CPU: two files at a
// time roughly halves the wall time on a 2-core machine (node's default here is 1).
const concurrency = process.env.MUTUA_TEST_CONCURRENCY ?? '2';
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'test' },
  },
);
process.exit(result.status ?? 1);
