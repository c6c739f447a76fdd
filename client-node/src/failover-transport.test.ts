import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection, Transport } from '@mutua/core/session';
import { failoverTransport } from './failover-transport.ts';

const conn = (url: string) => ({ url }) as unknown as Connection & { url: string };

function fake(down: Set<string>, tried: string[]): Transport {
  return {
    async connect(url) {
      tried.push(url);
      if (down.has(url)) throw new Error(`${url} unreachable`);
      return conn(url);
    },
  };
}

describe('failoverTransport (--coordinator A,B,C)', () => {
  it('tries the next URL when one cannot be reached, then starts from the one that worked', async () => {
    const down = new Set(['ws://a/v1/ws']);
    const tried: string[] = [];
    const t = failoverTransport(fake(down, tried), ['ws://a/v1/ws', 'ws://b/v1/ws', 'ws://c/v1/ws']);
    assert.equal(((await t.connect('ignored')) as unknown as { url: string }).url, 'ws://b/v1/ws');
    assert.deepEqual(tried, ['ws://a/v1/ws', 'ws://b/v1/ws']);
    tried.length = 0;
    down.add('ws://b/v1/ws');
    assert.equal(((await t.connect('ignored')) as unknown as { url: string }).url, 'ws://c/v1/ws');
    assert.deepEqual(tried, ['ws://b/v1/ws', 'ws://c/v1/ws']);
  });

  it('fails with the last error when every URL is down', async () => {
    const t = failoverTransport(fake(new Set(['ws://a/v1/ws', 'ws://b/v1/ws']), []), [
      'ws://a/v1/ws',
      'ws://b/v1/ws',
    ]);
    await assert.rejects(t.connect('ignored'), /unreachable/);
  });
});
