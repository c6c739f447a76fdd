#!/usr/bin/env node
// The operator's admin command: runs the JavaScript built from src/admin-cli/cli.ts into
// dist/ by scripts/build.mjs (at `npm ci`, and before `npm start` and `npm test` when a
// source changed), so no TypeScript is transpiled at start.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/mutua.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('mutua: server/dist is not built; run `npm run build` (or `npm ci`) first\n');
  process.exit(1);
}
await import(entry.href);
