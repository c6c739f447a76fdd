// The esbuild plugins of scripts/build.mjs: which imports stay imports, the Prisma query
// compiler as a binary file, and each bundled module's own location (import.meta.url,
// __dirname). A change here rebuilds every target (build.mjs lists this file as an input).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Which bare imports stay imports, resolved from node_modules at run time. */
export function externalPackages(bundleDependencies) {
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
export function prismaWasmFiles(outdir) {
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
export const BUNDLED_DEPENDENCIES_BANNER = [
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
export function sourcePaths(outdir) {
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
