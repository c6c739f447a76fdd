import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

// The browser build bundles core/src/data/*.ts: none of them may reach node built-ins,
// directly or through ./node/ (imports are relative, so checking each file's own imports
// covers the whole graph).
describe('core/src/data outside node/', () => {
  it('imports no node: modules and nothing under ./node/', () => {
    const dir = new URL('.', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    assert.ok(files.includes('idx.ts') && files.includes('index.ts'));
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      const imports = [...source.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) {
        assert.ok(spec.startsWith('./') && !spec.startsWith('./node/'), `${file} imports ${spec}`);
      }
    }
  });
});
