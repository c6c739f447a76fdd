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
// Usage: node scripts/build.mjs [--only server|client-node|client-web] [--force] [--if-available] [--quiet]
//   --only NAME     build that target alone (the image builds only the server)
//   --force         rebuild even if up to date
//   --if-available  skip (exit 0) when esbuild is not installed (an install without dev dependencies)
//   --quiet         print nothing when everything is up to date
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

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

/** Which bare imports stay imports, resolved from node_modules at run time. */
function externalPackages(bundleDependencies) {
  const except = new Set(bundleDependencies ? bundleDependencies.except : []);
  const packageName = (path) => path.split('/', path.startsWith('@') ? 2 : 1).join('/');
  return {
    name: 'external-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (a) => {
        if (a.path.startsWith('@mutua/') || a.path.startsWith('node:')) return undefined;
        if (!bundleDependencies || except.has(packageName(a.path))) return { external: true };
        return undefined;
      });
    },
  };
}

/**
 * The Prisma client imports its query compiler (WebAssembly) as a 2.5 MB JavaScript module
 * holding the binary as one base64 string: parsing it took ~85 ms of CPU at each start.
 * Here that module is the binary beside the bundle, read and handed over as the same string.
 */
function prismaWasmFiles(outdir) {
  return {
    name: 'prisma-wasm-files',
    setup(build) {
      const filter = /^@prisma\/client\/runtime\/query_compiler_bg\.(\w+)\.wasm-base64\.mjs$/;
      build.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'prisma-wasm' }));
      build.onLoad({ filter: /.*/, namespace: 'prisma-wasm' }, async (a) => {
        const provider = filter.exec(a.path)[1];
        // Resolved as the Prisma client resolves it: from the repository's node_modules.
        const source = fileURLToPath(import.meta.resolve(a.path));
        const mod = await import(pathToFileURL(source).href);
        if (Object.keys(mod).join() !== 'wasm' || typeof mod.wasm !== 'string')
          throw new Error(
            `${source} no longer exports just a base64 \`wasm\` string: update prismaWasmFiles`,
          );
        const file = `query_compiler_bg.${provider}.wasm`;
        mkdirSync(outdir, { recursive: true });
        writeFileSync(join(outdir, file), Buffer.from(mod.wasm, 'base64'));
        return {
          contents: [
            "import { readFileSync } from 'node:fs';",
            `export const wasm = readFileSync(new URL(${JSON.stringify(`./${file}`)}, import.meta.url)).toString('base64');`,
          ].join('\n'),
          loader: 'js',
          watchFiles: [source],
        };
      });
    },
  };
}

/**
 * Defined at the top of every output file of a target that bundles npm packages: their
 * CommonJS code calls `require` (a function esbuild cannot provide in an ES module) and
 * some read files next to themselves through `__dirname` (see sourcePaths).
 */
const BUNDLED_DEPENDENCIES_BANNER = [
  "import { createRequire as __mutuaCreateRequire } from 'node:module';",
  "import { fileURLToPath as __mutuaFileURLToPath } from 'node:url';",
  'const require = __mutuaCreateRequire(import.meta.url);',
  'const __mutuaSourcePath = (rel) => __mutuaFileURLToPath(new URL(rel, import.meta.url));',
].join('\n');

/** Where a directive prologue ('use strict') and a shebang end: a declaration goes after them. */
const PROLOGUE = /^(#!.*\n)?(\s*(\/\/.*\n|\/\*[\s\S]*?\*\/)\s*)*(\s*(['"])use strict\5;?)?/;

/**
 * A bundled module that locates files relative to itself would find them relative to the
 * bundle instead. Each module is given its own location, computed from the bundle's at run
 * time (so the tree can move: the image keeps the repository's layout under /app):
 * `import.meta.url` (the sources locate the migrations, client-web/dist and node_modules
 * this way) becomes the source file's URL, and a bundled CommonJS module that uses
 * `__dirname` or `__filename` gets both declared for its own file.
 */
function sourcePaths(outdir) {
  return {
    name: 'source-paths',
    setup(build) {
      build.onLoad({ filter: /\.(ts|js|mjs|cjs)$/ }, (a) => {
        const inNodeModules = a.path.split(sep).includes('node_modules');
        const text = readFileSync(a.path, 'utf8');
        const usesUrl = text.includes('import.meta.url');
        const usesDirname = inNodeModules && /\b__(dirname|filename)\b/.test(text);
        if (!usesUrl && !usesDirname) return undefined;
        const rel = (path) => JSON.stringify(relative(outdir, path).split(sep).join('/'));
        let contents = usesUrl
          ? text.replaceAll('import.meta.url', `new URL(${rel(a.path)}, import.meta.url).href`)
          : text;
        if (usesDirname) {
          const at = PROLOGUE.exec(contents)[0].length;
          const declare = `var __filename = __mutuaSourcePath(${rel(a.path)}), __dirname = __mutuaSourcePath(${rel(dirname(a.path))});`;
          contents = `${contents.slice(0, at)}${at > 0 ? '\n' : ''}${declare}${contents.slice(at)}`;
        }
        return { contents, loader: a.path.endsWith('.ts') ? 'ts' : 'js' };
      });
    },
  };
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

/**
 * The browser pages (client-web/dist: the dashboard at `/`, the join page) are built by
 * vite, so that `npm ci && npm start` serves them. Rebuilt when a file under client-web/src,
 * core/src or proto/src (the pages bundle both), an HTML entry or the vite config is newer
 * than dist/index.html. Built into a temporary folder and swapped in, like the others.
 */
const WEB = 'client-web';
const WEB_SOURCES = ['client-web/src', 'core/src', 'proto/src'];
const WEB_FILES = [
  'client-web/index.html',
  'client-web/join.html',
  'client-web/bench.html',
  'client-web/vite.config.ts',
];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function webStaleReason() {
  const index = join(ROOT, 'client-web/dist/index.html');
  if (!existsSync(index)) return 'not built yet';
  const built = statSync(index).mtimeMs;
  for (const f of WEB_FILES) if (statSync(join(ROOT, f)).mtimeMs > built) return `${f} changed`;
  for (const d of WEB_SOURCES) if (newestMtime(join(ROOT, d)) > built) return `a file under ${d} changed`;
  return null;
}

async function buildWeb() {
  const startedAt = Date.now();
  let vite;
  try {
    vite = await import('vite');
  } catch (err) {
    if (opts['if-available']) {
      console.log('build: vite is not installed (no dev dependencies); client-web skipped');
      return null;
    }
    throw err;
  }
  const outdir = join(ROOT, 'client-web/dist');
  const tmp = `${outdir}.tmp-${process.pid}`;
  try {
    await vite.build({
      configFile: join(ROOT, 'client-web/vite.config.ts'),
      logLevel: 'error',
      build: { outDir: tmp, emptyOutDir: true },
    });
    const old = `${outdir}.old-${process.pid}`;
    if (existsSync(outdir)) renameSync(outdir, old);
    renameSync(tmp, outdir);
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return Date.now() - startedAt;
}

const webSelected = opts.only === undefined || opts.only === WEB;
const webReason = webSelected ? (opts.force ? 'forced' : webStaleReason()) : null;
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
    const ms = await buildWeb();
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
