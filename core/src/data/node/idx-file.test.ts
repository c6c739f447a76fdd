import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../idx.ts';
import { readDataFile } from './files.ts';
import { loadIdxDataset, loadIdxFile } from './idx-file.ts';

describe('IDX files on disk', () => {
  let dir: string;
  const images = encodeIdx({
    dtype: 'uint8',
    dims: [3, 2, 2],
    data: [...Array(12).keys()].map((v) => v * 20),
  });
  const labels = encodeIdx({ dtype: 'uint8', dims: [3], data: [2, 0, 1] });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mutua-idx-'));
    await writeFile(join(dir, 'images.idx'), images);
    await writeFile(join(dir, 'images.idx.gz'), gzipSync(images));
    await writeFile(join(dir, 'labels.idx.gz'), gzipSync(labels));
    await writeFile(join(dir, 'gzip-without-suffix'), gzipSync(labels));
    await writeFile(join(dir, 'broken.gz'), new Uint8Array([0x1f, 0x8b, 1, 2, 3]));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('reads plain and gzipped IDX files alike', async () => {
    const plain = await loadIdxFile(join(dir, 'images.idx'));
    const gz = await loadIdxFile(join(dir, 'images.idx.gz'));
    assert.deepEqual(gz.dims, [3, 2, 2]);
    assert.deepEqual([...gz.data], [...plain.data]);
    assert.deepEqual([...(await readDataFile(join(dir, 'gzip-without-suffix')))], [...labels], 'gzip magic');
  });

  it('loads an images + labels pair as a Dataset', async () => {
    const ds = await loadIdxDataset({
      images: join(dir, 'images.idx.gz'),
      labels: join(dir, 'labels.idx.gz'),
    });
    assert.equal(ds.n, 3);
    assert.deepEqual(ds.shape, [2, 2, 1]);
    assert.deepEqual([...ds.y], [2, 0, 1]);
    assert.equal(ds.x[1], Math.fround(20 / 255));
  });

  it('reports a missing file, corrupt gzip, and a bad file with its path', async () => {
    const missing = join(dir, 'nope.idx');
    await assert.rejects(loadIdxFile(missing), (err: Error & { code: string }) => {
      assert.equal(err.code, 'DATA_FILE_NOT_FOUND');
      assert.ok(err.message.includes(missing));
      return true;
    });
    await assert.rejects(loadIdxFile(join(dir, 'broken.gz')), { code: 'DATA_GZIP_CORRUPT' });
    await assert.rejects(
      loadIdxDataset({ images: join(dir, 'labels.idx.gz'), labels: join(dir, 'labels.idx.gz') }),
      {
        code: 'DATA_IDX_BAD_RANK',
        message: /labels\.idx\.gz/,
      },
    );
  });
});
