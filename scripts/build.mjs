#!/usr/bin/env node
// Builds the commands that ship (the coordinator, its migration command, the `mutua` admin
// command and the edge client) from the TypeScript sources to plain JavaScript with
// esbuild, so that nothing transpiles at run time: `server/bin/mutua-server.js`,
// `server/bin/mutua.js` and `client-node/bin/mutua-client.js` load `<package>/dist/`. Tests and benches still run the .ts sources through tsx.
//
// Mutua's own code (the @mutua/* workspaces, the generated Prisma client) is bundled. The
// coordinator's npm dependencies are bundled too: resolving, reading and compiling several
// hundred small files of fastify, pino, pg and the Prisma runtime was a third of its start.
// Left in node_modules and imported at run time: native addons (better-sqlite3), what the
// sources load through createRequire (ajv's compilers, on first use; the data packages),
// and every dependency of the client, whose start is tfjs, loaded only for a run. Dynamic
// import() stays lazy (code splitting), so `--help` loads neither fastify nor tfjs.
//
// A target is rebuilt only when one of its inputs (recorded in dist/build-info.json from
// esbuild's metafile), a workspace manifest or this script changed since it was built:
// `npm start`, `npm test` and the benches call this first and pay ~20 ms when nothing did.
//
// Here: the targets, the up-to-date check and the esbuild run. The esbuild plugins are in
// scripts/build/esbuild-plugins.mjs, the browser pages' (vite) build in scripts/build/web.mjs.
//
// Usage: node scripts/build.mjs [--only server|client-node|client-web] [--force] [--if-available] [--quiet]
//   --only NAME     build that target alone (the image builds only the server)
//   --force         rebuild even if up to date
//   --if-available  skip (exit 0) when esbuild is not installed (an install without dev dependencies)
//   --quiet         print nothing when everything is up to date
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  BUNDLED_DEPENDENCIES_BANNER,
  externalPackages,
  prismaWasmFiles,
  sourcePaths,
} from './build/esbuild-plugins.mjs';
import { buildWeb, WEB, webStaleReason } from './build/web.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const USAGE =
  'usage: node scripts/build.mjs [--only server|client-node|client-web] [--force] [--if-available] [--quiet]';
const { values: opts } = (() => {
  try {
    return parseArgs({
      options: {
        only: { type: 'string' },
        force: { type: 'boolean' },
        'if-available': { type: 'boolean' },
        quiet: { type: 'boolean' },
      },
    });
  } catch (err) {
    console.error(`build: ${err.message}\n${USAGE}`);
    process.exit(2);
  }
})();

/** What ships: one esbuild run per package, its entry points named by their output file. */
const TARGETS = [
  {
    name: 'server',
    outdir: 'server/dist',
    entryPoints: {
      'mutua-server': 'server/src/main.ts',
      'mutua-migrate': 'server/src/db/migrate-cli.ts',
      mutua: 'server/src/admin-cli/cli.ts',
    },
    bundleDependencies: {
      except: [
        // Native: finds its .node file from its own path.
        'better-sqlite3',
        // Fastify's schema compilers: server/src/lazy-schema-compilers.ts requires them from
        // node_modules on first use; bundled, fastify's own copy would be parsed at every start.
        '@fastify/ajv-compiler',
        '@fastify/fast-json-stringify-compiler',
        // tfjs (`mutua federation distill` only, a lazy chunk), from node_modules as the client has
        // it: tfjs-node then registers on the same tfjs-core. Not in the image (runtime-modules.mjs).
        ...['', '-core', '-backend-cpu', '-backend-wasm', '-layers', '-converter', '-data'].map(
          (p) => `@tensorflow/tfjs${p}`,
        ),
      ],
    },
  },
  {
    name: 'client-node',
    outdir: 'client-node/dist',
    entryPoints: { 'mutua-client': 'client-node/src/cli.ts' },
    bundleDependencies: false,
  },
];

/** Files outside the metafile's inputs whose change can change the output. */
const EXTRA_INPUTS = [
  'scripts/build.mjs',
  'scripts/build/esbuild-plugins.mjs',
  'package.json',
  'proto/package.json',
  'core/package.json',
  'server/package.json',
  'client-node/package.json',
  'package-lock.json',
  // Rewritten by every npm install / npm ci: bundled dependencies may have changed.
  'node_modules/.package-lock.json',
];
const INFO = 'build-info.json';

/** Why `target` must be rebuilt, or null when its output is newer than all of its inputs. */
function staleReason(target) {
  const infoPath = join(ROOT, target.outdir, INFO);
  if (!existsSync(infoPath)) return 'not built yet';
  let info;
  try {
    info = JSON.parse(readFileSync(infoPath, 'utf8'));
  } catch {
    return `${INFO} is unreadable`;
  }
  for (const out of info.outputs ?? []) if (!existsSync(join(ROOT, out))) return `${out} is missing`;
  for (const input of [...EXTRA_INPUTS, ...(info.inputs ?? [])]) {
    let mtime;
    try {
      mtime = statSync(join(ROOT, input)).mtimeMs;
    } catch {
      if (input.startsWith('node_modules/')) continue;
      return `${input} is gone`;
    }
    // Compared with the time the build started, so an edit made during a build counts.
    if (mtime > info.startedAt) return `${input} changed`;
  }
  return null;
}

async function buildTarget(esbuild, target) {
  const outdir = join(ROOT, target.outdir);
  // Built beside dist/ and swapped in when complete, so a command started meanwhile never
  // sees half a build. Same depth as dist/, so the relative source URLs hold.
  const tmp = `${outdir}.tmp-${process.pid}`;
  const startedAt = Date.now();
  rmSync(tmp, { recursive: true, force: true });
  try {
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: target.entryPoints,
      outdir: tmp,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20.10',
      // Class and function names as in the sources (error names, stack traces).
      keepNames: true,
      // Stack traces name the bundle's lines; NODE_OPTIONS=--enable-source-maps maps them back
      // to the sources (off by default: Node parses every map at load, which costs a start).
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      logLevel: 'warning',
      banner: target.bundleDependencies ? { js: BUNDLED_DEPENDENCIES_BANNER } : undefined,
      plugins: [
        ...(target.bundleDependencies ? [prismaWasmFiles(tmp)] : []),
        externalPackages(target.bundleDependencies),
        sourcePaths(tmp),
      ],
    });
    // Files of the tree (a `namespace:` input is a module made by a plugin; node_modules
    // changes are caught by node_modules/.package-lock.json).
    const inputs = Object.keys(result.metafile.inputs).filter(
      (p) => !p.includes('node_modules/') && !/^[\w-]+:/.test(p),
    );
    const written = Object.keys(result.metafile.outputs);
    // Files the plugins wrote beside the bundle (the Prisma wasm) are outputs too.
    for (const name of readdirSync(tmp))
      if (!written.some((p) => p.endsWith(`/${name}`))) written.push(join(tmp, name));
    const outputs = written.map((p) => join(target.outdir, relative(tmp, resolve(ROOT, p))));
    writeFileSync(join(tmp, INFO), `${JSON.stringify({ startedAt, inputs, outputs }, null, 1)}\n`);
    // What each output file is made of (https://esbuild.github.io/analyze/ reads it).
    writeFileSync(join(tmp, 'meta.json'), JSON.stringify(result.metafile));
    const old = `${outdir}.old-${process.pid}`;
    if (existsSync(outdir)) renameSync(outdir, old);
    renameSync(tmp, outdir);
    rmSync(old, { recursive: true, force: true });
    return { ms: Date.now() - startedAt, inputs: inputs.length };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const webSelected = opts.only === undefined || opts.only === WEB;
const webReason = webSelected ? (opts.force ? 'forced' : webStaleReason(ROOT)) : null;
const selected = TARGETS.filter((t) => opts.only === undefined || t.name === opts.only);
if (selected.length === 0 && !webSelected) {
  console.error(`build: no target named "${opts.only}" (${TARGETS.map((t) => t.name).join(', ')})\n${USAGE}`);
  process.exit(2);
}
const stale = selected
  .map((target) => ({ target, reason: opts.force ? 'forced' : staleReason(target) }))
  .filter((x) => x.reason !== null);
if (stale.length === 0 && webReason === null) {
  if (!opts.quiet) console.log('build: up to date');
  process.exit(0);
}

if (webReason !== null) {
  try {
    const ms = await buildWeb(ROOT, opts['if-available']);
    if (ms !== null) console.log(`build: client-web/dist (${webReason}) in ${ms} ms`);
  } catch (err) {
    console.error(
      `build: client-web/dist failed${err instanceof Error ? `: ${err.message.split('\n')[0]}` : ''}`,
    );
    process.exit(1);
  }
}
if (stale.length === 0) process.exit(0);

// Imported only now: an up-to-date check (every `npm start` and `npm test`) need not load it.
let esbuild;
try {
  esbuild = await import('esbuild');
} catch (err) {
  if (opts['if-available']) {
    console.log('build: esbuild is not installed (no dev dependencies); skipped');
    process.exit(0);
  }
  throw err;
}

const missing = [
  'server/src/db/generated/sqlite/client.ts',
  'server/src/db/generated/postgres/client.ts',
].filter((f) => !existsSync(join(ROOT, f)));
if (missing.length > 0) {
  console.error(
    `build: ${missing.join(', ')} missing: generate the Prisma clients first (npm run db:generate)`,
  );
  process.exit(1);
}

for (const { target, reason } of stale) {
  try {
    const r = await buildTarget(esbuild, target);
    console.log(`build: ${target.outdir} (${reason}): ${r.inputs} sources in ${r.ms} ms`);
  } catch (err) {
    // esbuild has printed the errors; the previous build, if any, stays (and stays stale).
    console.error(
      `build: ${target.outdir} failed${err instanceof Error ? `: ${err.message.split('\n')[0]}` : ''}`,
    );
    process.exit(1);
  }
}
