/** The join page's pure parts: the model it picks for a device, how image files get their class. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classIndex, labelOf, splitValidation } from '../src/join/data.ts';
import { archFits, ModelChoiceError, pickModel } from '../src/join/pick-model.ts';

const image = [28, 28, 1];
const base = { inputShape: image, requiredArch: '', choice: 'auto' as const, cores: 4, memoryGb: 8 };

test('auto picks cnn-small on WebAssembly, the mlp on CPU or for tabular data, cnn-fedavg on a GPU', () => {
  assert.equal(pickModel({ ...base, backend: 'wasm' }).arch, 'cnn-small');
  assert.equal(pickModel({ ...base, backend: 'cpu' }).arch, 'mlp');
  assert.equal(pickModel({ ...base, backend: 'webgl' }).arch, 'cnn-fedavg');
  assert.equal(pickModel({ ...base, backend: 'webgl', memoryGb: 2 }).arch, 'cnn-small');
  assert.equal(pickModel({ ...base, backend: 'wasm', cores: 1 }).arch, 'mlp');
  assert.equal(pickModel({ ...base, backend: 'wasm', inputShape: [784] }).arch, 'mlp');
  assert.equal(pickModel({ ...base, backend: 'wasm', inputShape: [8, 8, 1] }).arch, 'mlp');
});

test('a federation-required architecture wins; impossible choices are refused with a reason', () => {
  assert.equal(pickModel({ ...base, backend: 'cpu', requiredArch: 'cnn-fedavg' }).arch, 'cnn-fedavg');
  assert.throws(() => pickModel({ ...base, backend: 'wasm', requiredArch: 'resnet' }), ModelChoiceError);
  assert.equal(pickModel({ ...base, backend: 'wasm', choice: 'mlp' }).arch, 'mlp');
  assert.throws(
    () => pickModel({ ...base, backend: 'wasm', choice: 'cnn-small', inputShape: [784] }),
    /choose mlp/,
  );
  assert.equal(archFits('cnn-fedavg', [4, 4, 1]), true);
  assert.equal(archFits('cnn-small', [9, 9, 1]), false);
});

test('image files take their class from their folder or their name prefix', () => {
  const task = { inputShape: image, numClasses: 10, labelNames: [] as string[] };
  const inFolder = new File([new Uint8Array(1)], 'a.png');
  Object.defineProperty(inFolder, 'webkitRelativePath', { value: 'digits/7/a.png' });
  assert.equal(labelOf(inFolder), '7');
  assert.equal(labelOf(new File([], '3_scan.png')), '3');
  assert.equal(labelOf(new File([], 'shoe-12.png')), 'shoe');
  assert.equal(labelOf(new File([], 'noclass.png')), '');
  assert.equal(classIndex('7', task), 7);
  assert.equal(classIndex('shoe', task), null);
  const named = { ...task, labelNames: ['tshirt', 'trouser', 'shoe'], numClasses: 3 };
  assert.equal(classIndex('shoe', named), 2);
});

test('a tenth is held out for local accuracy once there are 20 samples', () => {
  const make = (n: number) => ({
    x: new Float32Array(n * 2),
    y: Int32Array.from({ length: n }, (_, i) => i % 2),
    n,
    shape: [2],
    numClasses: 2,
  });
  const small = splitValidation(make(10));
  assert.equal(small.validation, undefined);
  const { train, validation } = splitValidation(make(600));
  assert.equal(train.n, 540);
  assert.equal(validation?.n, 60);
});
