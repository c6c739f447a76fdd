#!/usr/bin/env node
// The edge client's command: runs the JavaScript built from src/cli.ts into dist/ by
// scripts/build.mjs (at `npm ci`, and before `npm test` when a source changed), so no
// TypeScript is transpiled at start.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/mutua-client.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'mutua-client: client-node/dist is not built; run `npm run build` (or `npm ci`) first\n',
  );
  process.exit(1);
}
await import(entry.href);
