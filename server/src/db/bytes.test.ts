import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from './bytes.ts';

describe('uuidv7', () => {
  it('is a version-7, variant-1 UUID carrying the millisecond time, unique across pool refills', () => {
    const now = Date.UTC(2026, 10, 28, 1, 2, 3, 456);
    const ids = Array.from({ length: 1000 }, () => uuidv7(now)); // 16 KB: four pool refills
    for (const id of ids) {
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), now);
    }
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(uuidv7(now + 1) > uuidv7(now), 'ordered by time');
  });
});
