/**
 * The V8 heap limit the coordinator is started with by `npm start` (package.json's start
 * script, the one place it is written) and by the Docker image (its ENV NODE_OPTIONS, checked
 * against this by server/test/container-command.test.ts); the fuzzer starts its coordinator
 * the same way, so that it measures what ships. Why a limit at all: V8 lets the old
 * generation grow up to 4x past what is live when the heap may reach 2 GB or more, and
 * 1.3-2x below that (docs/deployment.md, "Memory").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..');

export function defaultHeapMb(): number {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const m = /--max-old-space-size=(\d+)\b/.exec(pkg.scripts.start);
  if (!m) throw new Error('package.json: the start script sets no --max-old-space-size');
  return Number(m[1]);
}
