import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SessionError } from './session-error.ts';
import type { TokenStorage } from './session-types.ts';
import { defaultStorageKey, TokenKeeper } from './token-keeper.ts';

function storage(initial: Record<string, string> = {}): TokenStorage & { map: Map<string, string> } {
  const map = new Map(Object.entries(initial));
  return { map, get: (k) => map.get(k), set: (k, v) => void map.set(k, v) };
}

describe('TokenKeeper', () => {
  test('the storage key hashes url and join token, never containing the token', () => {
    const key = defaultStorageKey('ws://a/v1/ws', 'secret-join');
    assert.match(key, /^mutua\.resume\.[0-9a-f]+$/);
    assert.ok(!key.includes('secret'));
    assert.notEqual(key, defaultStorageKey('ws://a/v1/ws', 'other'));
  });

  test('given resume token, then stored one, then join token; each Welcome token is stored', async () => {
    const s = storage({ k: 'stored' });
    assert.deepEqual(await new TokenKeeper('k', 'join', 'given', s).pick(), {
      kind: 'resume',
      value: 'given',
    });
    const keeper = new TokenKeeper('k', 'join', undefined, s);
    assert.deepEqual(await keeper.pick(), { kind: 'resume', value: 'stored' });
    await keeper.welcomed('fresh');
    assert.equal(s.map.get('k'), 'fresh');
    assert.deepEqual(await keeper.pick(), { kind: 'resume', value: 'fresh' });
    const joining = new TokenKeeper('k', 'join', undefined, storage());
    assert.deepEqual(await joining.pick(), { kind: 'join', value: 'join' });
    await joining.welcomed('');
    assert.deepEqual(
      await joining.pick(),
      { kind: 'join', value: 'join' },
      'no token in the Welcome: nothing changes',
    );
  });

  test('a rejected resume token falls back to the join token once per Welcome', async () => {
    const s = storage({ k: 'stale' });
    const keeper = new TokenKeeper('k', 'join', undefined, s);
    await keeper.pick();
    assert.equal(keeper.fallBackToJoin(), true);
    assert.deepEqual(await keeper.pick(), { kind: 'join', value: 'join' }, 'storage is not read again');
    assert.equal(keeper.fallBackToJoin(), false, 'the join token itself was rejected');
    await keeper.welcomed('new');
    assert.deepEqual(await keeper.pick(), { kind: 'resume', value: 'new' });
    assert.equal(keeper.fallBackToJoin(), true, 'allowed again after a Welcome');
  });

  test('no fallback without a join token, nor when the join token was the one rejected', async () => {
    const noJoin = new TokenKeeper('k', undefined, 'given', undefined);
    await noJoin.pick();
    assert.equal(noJoin.fallBackToJoin(), false);
    const joined = new TokenKeeper('k', 'join', undefined, undefined);
    await joined.pick();
    assert.equal(joined.fallBackToJoin(), false);
  });

  test('no token at all is a fatal NO_TOKEN; a failing storage rejects', async () => {
    const none = new TokenKeeper('k', undefined, undefined, storage());
    await assert.rejects(
      none.pick(),
      (e: unknown) => e instanceof SessionError && e.code === 'NO_TOKEN' && e.fatal,
    );
    const broken: TokenStorage = {
      get: () => null,
      set: () => Promise.reject(new Error('disk full')),
    };
    await assert.rejects(new TokenKeeper('k', 'join', undefined, broken).welcomed('t'), /disk full/);
  });
});
