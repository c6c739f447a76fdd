import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assembleFashionMnist,
  FASHION_MNIST_LABELS,
  type FashionMnistClass,
  parseFashionMnistJson,
} from './fashion-mnist.ts';

const encode = (text: string) => new TextEncoder().encode(text);
const row = (seed: number) => Array.from({ length: 784 }, (_, i) => (i * 7 + seed) % 256);

describe('parseFashionMnistJson', () => {
  it('reads rows of 784 pixels and skips empty rows', () => {
    const parsed = parseFashionMnistJson(encode(JSON.stringify({ data: [row(1), [], row(2)] })));
    assert.equal(parsed.rows, 2);
    assert.deepEqual([...parsed.pixels], [...row(1), ...row(2)]);
  });

  it('accepts whitespace anywhere JSON does', () => {
    const text = JSON.stringify({ data: [row(3), []] }, null, 2);
    assert.deepEqual([...parseFashionMnistJson(encode(`\n${text}\n`)).pixels], row(3));
    assert.equal(parseFashionMnistJson(encode('{"data": [ ]}')).rows, 0);
  });

  it('rejects anything but the expected layout, naming the file and byte', () => {
    const cases: [string, string][] = [
      [JSON.stringify({ data: [row(1).slice(1)] }), 'DATA_JSON_BAD_ROW'],
      [JSON.stringify({ data: [[...row(1), 0]] }), 'DATA_JSON_BAD_ROW'],
      [JSON.stringify({ data: [[256, ...row(1).slice(1)]] }), 'DATA_JSON_BAD_ROW'],
      [JSON.stringify({ data: [[0.5, ...row(1).slice(1)]] }), 'DATA_JSON_SYNTAX'],
      [JSON.stringify({ data: [[-1, ...row(1).slice(1)]] }), 'DATA_JSON_SYNTAX'],
      ['{"data": [[1,2,]]}', 'DATA_JSON_SYNTAX'],
      ['{"data": [[1 2]]}', 'DATA_JSON_SYNTAX'],
      ['{"data": [[] []]}', 'DATA_JSON_SYNTAX'],
      ['{"data": [[]]', 'DATA_JSON_SYNTAX'],
      ['{"data": [[]]} x', 'DATA_JSON_SYNTAX'],
      ['{"pixels": [[]]}', 'DATA_JSON_SYNTAX'],
      ['[[1]]', 'DATA_JSON_SYNTAX'],
    ];
    for (const [text, code] of cases) {
      assert.throws(
        () => parseFashionMnistJson(encode(text), '3.json'),
        { code, message: /3\.json/ },
        text.slice(0, 40),
      );
    }
  });
});

describe('assembleFashionMnist', () => {
  // Pixel 0 is the row's low byte, pixel 1 its high byte, pixel 2 the class.
  const classes: FashionMnistClass[] = FASHION_MNIST_LABELS.map((_, c) => {
    const pixels = new Uint8Array(7000 * 784);
    for (let r = 0; r < 7000; r++) {
      pixels[r * 784] = r & 255;
      pixels[r * 784 + 1] = r >> 8;
      pixels[r * 784 + 2] = c;
    }
    return { pixels, rows: 7000 };
  });
  const rowOf = (x: Float32Array, s: number) =>
    Math.round(x[s * 784]! * 255) + 256 * Math.round(x[s * 784 + 1]! * 255);

  it('takes rows 0..999 of each class as test and 1000..6999 as train, interleaving classes', () => {
    const test = assembleFashionMnist(classes, 'test');
    assert.equal(test.n, 10_000);
    assert.deepEqual(test.shape, [28, 28, 1]);
    assert.deepEqual(test.labelNames, FASHION_MNIST_LABELS);
    assert.deepEqual([...test.y.subarray(0, 12)], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert.equal(rowOf(test.x, 0), 0);
    assert.equal(rowOf(test.x, 13), 1);
    assert.equal(rowOf(test.x, 9999), 999);
    assert.equal(Math.round(test.x[13 * 784 + 2]! * 255), 3);
    const train = assembleFashionMnist(classes, 'train', 25);
    assert.equal(train.n, 25);
    assert.equal(rowOf(train.x, 0), 1000);
    assert.equal(rowOf(train.x, 24), 1002);
  });

  it('refuses a package whose layout changed', () => {
    assert.throws(() => assembleFashionMnist(classes.slice(1), 'train'), { code: 'DATA_PACKAGE_LAYOUT' });
    const short = classes.map((c, i) => (i === 4 ? { pixels: c.pixels.subarray(784), rows: 6999 } : c));
    assert.throws(() => assembleFashionMnist(short, 'test'), { code: 'DATA_PACKAGE_LAYOUT' });
  });
});
