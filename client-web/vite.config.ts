/**
 * Builds the two pages the coordinator serves (server/src/routes/web.ts): the dashboard
 * (index.html, at `/`) and the join page (join.html, at `/join/<token>`), plus the Web
 * Worker that trains, and bench.html for `npm run bench:web`. tfjs-backend-wasm fetches
 * its .wasm binaries at run time, so they are copied into dist/tfjs-wasm/ and the worker
 * points setWasmPaths there.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));

/** The URL path the wasm binaries are served under (WASM_PATH in src/join/backend.ts agrees). */
export const WASM_DIR = 'tfjs-wasm';

function tfjsWasmBinaries(): Plugin {
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  return {
    name: 'mutua-tfjs-wasm-binaries',
    apply: 'build',
    generateBundle() {
      for (const file of readdirSync(dist).filter((f) => f.endsWith('.wasm'))) {
        this.emitFile({
          type: 'asset',
          fileName: `${WASM_DIR}/${file}`,
          source: readFileSync(join(dist, file)),
        });
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  // Absolute asset URLs: the join page lives at /join/<token>, so relative ones would break.
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 4096,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // Timing warnings are about this machine's load, not about the build.
      checks: { bundlerTimings: false },
      // bench.html is for bench/bench-web.ts; the coordinator does not serve it.
      input: {
        index: join(here, 'index.html'),
        join: join(here, 'join.html'),
        bench: join(here, 'bench.html'),
      },
    },
  },
  worker: { format: 'es' },
  plugins: [tfjsWasmBinaries()],
  logLevel: 'warn',
});
