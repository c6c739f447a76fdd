import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadImageFolder } from './image-folder.ts';

type Rgba = readonly [number, number, number, number];

/** A width x height PNG filled with one colour; colorType 0 writes a grayscale file. */
function png(width: number, height: number, rgba: Rgba, colorType: 0 | 2 | 6 = 6): Buffer {
  const image = new PNG({ width, height });
  for (let p = 0; p < width * height; p++) image.data.set(rgba, 4 * p);
  return PNG.sync.write(image, { colorType });
}

function jpg(width: number, height: number, rgba: Rgba): Buffer {
  const data = Buffer.alloc(width * height * 4);
  for (let p = 0; p < width * height; p++) data.set(rgba, 4 * p);
  return jpeg.encode({ width, height, data }, 95).data;
}

async function tree(files: Record<string, Uint8Array | string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'mutua-images-'));
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(join(full, '..'), { recursive: true });
    if (!path.endsWith('/')) await writeFile(full, content);
    else await mkdir(full, { recursive: true });
  }
  return root;
}

const RED: Rgba = [255, 0, 0, 255];
const GREY: Rgba = [51, 51, 51, 128];
const WHITE: Rgba = [255, 255, 255, 255];

describe('loadImageFolder', () => {
  const roots: string[] = [];
  let root: string;
  before(async () => {
    root = await tree({
      'dog/b.jpg': jpg(3, 2, WHITE),
      'dog/A.PNG': png(3, 2, [51, 51, 51, 255], 0), // pngjs would blend alpha into a gray file
      'cat/2.png': png(3, 2, GREY),
      'cat/1.png': png(3, 2, RED),
      'cat/notes.txt': 'not an image',
      'cat/.DS_Store': 'ignored',
      '.hidden/x.png': png(3, 2, RED),
      'README.md': 'files at the top level are not labels',
    });
    roots.push(root);
  });
  after(async () => {
    for (const r of roots) await rm(r, { recursive: true, force: true });
  });

  it('reads one label per subfolder, sorted, files in name order, as grayscale', async () => {
    const ds = await loadImageFolder(root, { shape: [2, 3, 1] });
    assert.deepEqual(ds.labelNames, ['cat', 'dog']);
    assert.equal(ds.numClasses, 2);
    assert.equal(ds.n, 4);
    assert.deepEqual(ds.shape, [2, 3, 1]);
    assert.deepEqual([...ds.y], [0, 0, 1, 1]);
    const first = (k: number) => ds.x[k * 6]!;
    assert.ok(Math.abs(first(0) - 0.299) < 1e-6, 'cat/1.png is red: BT.601 luma');
    assert.ok(Math.abs(first(1) - 0.2) < 1e-6, 'cat/2.png is grey 51');
    assert.ok(Math.abs(first(2) - 0.2) < 1e-6, 'dog/A.PNG is a grayscale PNG');
    assert.ok(Math.abs(first(3) - 1) < 0.02, 'dog/b.jpg is white');
    for (let k = 0; k < 4; k++) for (let p = 1; p < 6; p++) assert.equal(ds.x[k * 6 + p], ds.x[k * 6]);
  });

  it('keeps RGB or RGBA channels, and defaults to the first image size with 3 channels', async () => {
    const rgba = await loadImageFolder(root, { shape: [2, 3, 4] });
    assert.deepEqual([...rgba.x.subarray(0, 4)], [1, 0, 0, 1]);
    assert.deepEqual([...rgba.x.subarray(24, 28)], [0.2, 0.2, 0.2, 128 / 255].map(Math.fround));
    const rgb = await loadImageFolder(root);
    assert.deepEqual(rgb.shape, [2, 3, 3]);
    assert.deepEqual([...rgb.x.subarray(0, 6)], [1, 0, 0, 1, 0, 0]);
    const jpegPixel = [...rgb.x.subarray(3 * 18, 3 * 18 + 3)];
    for (const v of jpegPixel) assert.ok(Math.abs(v - 1) < 0.02, `jpeg pixel ${jpegPixel}`);
  });

  it('names an image of the wrong size', async () => {
    const r = await tree({ 'a/ok.png': png(4, 4, RED), 'b/big.png': png(5, 4, RED) });
    roots.push(r);
    await assert.rejects(
      loadImageFolder(r, { shape: [4, 4, 1] }),
      (err: Error & { code: string; file: string }) => {
        assert.equal(err.code, 'DATA_IMAGE_WRONG_SIZE');
        assert.equal(err.file, join(r, 'b', 'big.png'));
        assert.match(err.message, /5x4 .*expected 4x4/);
        return true;
      },
    );
  });

  it('names an unreadable image', async () => {
    const truncated = png(4, 4, RED).subarray(0, 40);
    for (const [name, bytes] of [
      ['junk.png', 'definitely not a PNG'],
      ['cut.png', truncated],
      ['cut.jpg', jpg(4, 4, RED).subarray(0, 30)],
    ] as const) {
      const r = await tree({ [`a/${name}`]: bytes });
      roots.push(r);
      await assert.rejects(loadImageFolder(r), (err: Error & { code: string; file: string }) => {
        assert.equal(err.code, 'DATA_IMAGE_UNREADABLE', name);
        assert.equal(err.file, join(r, 'a', name));
        return true;
      });
    }
  });

  it('reports an empty folder, an empty label and a missing folder', async () => {
    const empty = await tree({ 'README.md': 'no subfolders' });
    const emptyLabel = await tree({ 'a/x.png': png(1, 1, RED), 'b/notes.txt': 'no images' });
    roots.push(empty, emptyLabel);
    await assert.rejects(loadImageFolder(empty), { code: 'DATA_IMAGE_FOLDER_EMPTY' });
    await assert.rejects(loadImageFolder(emptyLabel), {
      code: 'DATA_IMAGE_CLASS_EMPTY',
      message: /label 'b'/,
    });
    await assert.rejects(loadImageFolder(join(empty, 'nope')), { code: 'DATA_FILE_NOT_FOUND' });
  });

  it('validates the shape', async () => {
    await assert.rejects(loadImageFolder(root, { shape: [2, 3, 2] }), { code: 'DATA_INVALID_OPTION' });
    await assert.rejects(loadImageFolder(root, { shape: [0, 3, 1] }), { code: 'DATA_INVALID_OPTION' });
  });
});
