import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  allocateDemoShard,
  DEMO_SHARD_MAGIC,
  DemoShardError,
  type DemoShardErrorCode,
  decodeDemoShard,
  encodeDemoShard,
} from './demo-shard.ts';

function throwsCode(fn: () => unknown, code: DemoShardErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof DemoShardError && e.code === code);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('mutua-shard-v1 demo shards', () => {
  it('has the documented layout (golden bytes)', () => {
    const bytes = encodeDemoShard({
      n: 2,
      numClasses: 3,
      shape: [2, 1],
      labels: [2, 0],
      pixels: Uint8Array.of(0, 255, 17, 34),
    });
    assert.equal(
      hex(bytes),
      [
        '4d534831', // "MSH1"
        '02000000', // n
        '0300', // numClasses
        '02', // rank
        '00', // reserved
        '02000000', // shape[0]
        '01000000', // shape[1]
        '0200', // labels
        '00ff1122', // pixels
      ].join(''),
    );
    assert.equal(new DataView(bytes.buffer).getUint32(0, true), DEMO_SHARD_MAGIC);
  });

  it('round-trips labels, pixels and shape; decoded parts are views, not copies', () => {
    const n = 5;
    const shape = [4, 4, 1];
    const pixels = new Uint8Array(n * 16).map((_, i) => (i * 37) % 256);
    const labels = Uint8Array.of(9, 0, 3, 3, 7);
    const bytes = encodeDemoShard({ n, numClasses: 10, shape, labels, pixels });
    const shard = decodeDemoShard(bytes);
    assert.equal(shard.n, n);
    assert.equal(shard.numClasses, 10);
    assert.deepEqual(shard.shape, shape);
    assert.deepEqual([...shard.labels], [...labels]);
    assert.deepEqual([...shard.pixels], [...pixels]);
    assert.equal(shard.pixels.buffer, bytes.buffer);
    // A shard inside a larger buffer (as fetch or Buffer may hand it over) decodes the same.
    const framed = new Uint8Array(bytes.length + 8);
    framed.set(bytes, 3);
    assert.deepEqual([...decodeDemoShard(framed.subarray(3, 3 + bytes.length)).labels], [...labels]);
  });

  it('allocateDemoShard writes the header and lets the caller fill the body in place', () => {
    const shard = allocateDemoShard({ n: 3, numClasses: 2, shape: [2] });
    shard.labels.set([1, 0, 1]);
    shard.pixels.set([1, 2, 3, 4, 5, 6]);
    const back = decodeDemoShard(shard.bytes);
    assert.deepEqual([...back.labels], [1, 0, 1]);
    assert.deepEqual([...back.pixels], [1, 2, 3, 4, 5, 6]);
    // An empty shard is valid: a header and nothing else.
    assert.equal(
      decodeDemoShard(
        encodeDemoShard({ n: 0, numClasses: 10, shape: [3], labels: [], pixels: new Uint8Array() }),
      ).n,
      0,
    );
  });

  it('refuses malformed bytes with a code', () => {
    const good = encodeDemoShard({
      n: 2,
      numClasses: 3,
      shape: [2],
      labels: [0, 1],
      pixels: new Uint8Array(4),
    });
    throwsCode(() => decodeDemoShard(new Uint8Array(8)), 'DEMO_SHARD_MAGIC');
    throwsCode(() => decodeDemoShard(new Uint8Array(40)), 'DEMO_SHARD_MAGIC');
    assert.throws(() => decodeDemoShard(new Uint8Array(40)), /wrong magic/);
    throwsCode(() => decodeDemoShard(good.subarray(0, good.length - 1)), 'DEMO_SHARD_LENGTH');
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    throwsCode(() => decodeDemoShard(trailing), 'DEMO_SHARD_LENGTH');
    throwsCode(() => decodeDemoShard(good.subarray(0, 14)), 'DEMO_SHARD_LENGTH');
    const badRank = good.slice();
    badRank[10] = 5;
    throwsCode(() => decodeDemoShard(badRank), 'DEMO_SHARD_HEADER');
    const badLabel = good.slice();
    badLabel[16] = 3;
    throwsCode(() => decodeDemoShard(badLabel), 'DEMO_SHARD_LABEL');
    const noClasses = good.slice();
    noClasses[8] = 0;
    throwsCode(() => decodeDemoShard(noClasses), 'DEMO_SHARD_HEADER');
  });

  it('refuses to encode what the format cannot hold', () => {
    const px = new Uint8Array(4);
    throwsCode(
      () => encodeDemoShard({ n: 2, numClasses: 3, shape: [2], labels: [0, 3], pixels: px }),
      'DEMO_SHARD_LABEL',
    );
    throwsCode(
      () => encodeDemoShard({ n: 2, numClasses: 3, shape: [2], labels: [0], pixels: px }),
      'DEMO_SHARD_LENGTH',
    );
    throwsCode(
      () => encodeDemoShard({ n: 2, numClasses: 3, shape: [3], labels: [0, 1], pixels: px }),
      'DEMO_SHARD_LENGTH',
    );
    throwsCode(() => allocateDemoShard({ n: 1, numClasses: 257, shape: [1] }), 'DEMO_SHARD_HEADER');
    throwsCode(() => allocateDemoShard({ n: 1, numClasses: 2, shape: [1, 1, 1, 1, 1] }), 'DEMO_SHARD_HEADER');
    throwsCode(() => allocateDemoShard({ n: 1, numClasses: 2, shape: [0] }), 'DEMO_SHARD_HEADER');
    throwsCode(() => allocateDemoShard({ n: -1, numClasses: 2, shape: [1] }), 'DEMO_SHARD_HEADER');
  });
});
