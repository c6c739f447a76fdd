/** The fallback SHA-256 agrees with node:crypto. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { sha256Hex, sha256Sync } from '../src/shared/sha256.ts';

test('sha256Sync matches node:crypto on lengths around the block boundaries', async () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 1000, 100_003]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
    const expected = createHash('sha256').update(bytes).digest('hex');
    assert.equal(sha256Sync(bytes), expected, `length ${n}`);
    assert.equal(await sha256Hex(bytes), expected, `length ${n} (WebCrypto)`);
  }
});
