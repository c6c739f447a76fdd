/**
 * Turns what the person chose into a labeled Dataset for the federation's task, in the
 * worker: a demo shard from the coordinator, a CSV file (label column, then features),
 * or image files (one folder per class, as <input webkitdirectory> gives them, or files
 * named "<label>_anything.png"). Everything is checked against the task first, and what
 * does not fit is refused with a message saying what to change (DataFitError).
 */
import { DataError, type Dataset, parseCsv, Rng, subset } from '@mutua/core/data';
import { decodeDemoShard } from '../shared/demo-shard.ts';
import type { TaskInfo } from './messages.ts';

export type DataFitCode =
  | 'DATA_EMPTY'
  | 'DATA_IMAGE_SIZE'
  | 'DATA_IMAGE_UNREADABLE'
  | 'DATA_CLASS_COUNT'
  | 'DATA_LABEL_UNKNOWN'
  | 'DATA_SHAPE'
  | 'DATA_CSV'
  | 'DATA_DEMO_UNAVAILABLE';

export class DataFitError extends Error {
  override readonly name = 'DataFitError';
  constructor(
    readonly code: DataFitCode,
    message: string,
  ) {
    super(message);
  }
}

const IMAGE_FILE = /\.(png|jpe?g|gif|bmp|webp)$/i;

export interface Prepared {
  ds: Dataset;
  source: string;
}

export async function loadDemo(
  origin: string,
  joinToken: string,
  samples: number,
  task: TaskInfo,
): Promise<Prepared> {
  const url = new URL(`/v1/join/${encodeURIComponent(joinToken)}/demo-shard`, origin);
  url.searchParams.set('n', String(samples));
  const res = await fetch(url);
  if (!res.ok) {
    let message = `the coordinator answered ${res.status}`;
    try {
      message = ((await res.json()) as { message?: string }).message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new DataFitError('DATA_DEMO_UNAVAILABLE', `no demo data: ${message}`);
  }
  const ds = decodeDemoShard(new Uint8Array(await res.arrayBuffer()), task.labelNames);
  checkFits(ds, task, 'the demo shard');
  return { ds, source: `demo shard: ${res.headers.get('x-mutua-shard-source') ?? `${ds.n} samples`}` };
}

export async function loadCsv(file: File, task: TaskInfo): Promise<Prepared> {
  let ds: Dataset;
  try {
    ds = parseCsv(new Uint8Array(await file.arrayBuffer()), {
      name: file.name,
      shape: task.inputShape,
      numClasses: task.numClasses,
      labelNames: task.labelNames.length === task.numClasses ? task.labelNames : undefined,
    });
  } catch (err) {
    if (err instanceof DataError) {
      const code: DataFitCode =
        err.code === 'DATA_LABEL_OUT_OF_RANGE' || err.code === 'DATA_CSV_UNKNOWN_LABEL'
          ? 'DATA_CLASS_COUNT'
          : err.code === 'DATA_CSV_SHAPE_MISMATCH'
            ? 'DATA_SHAPE'
            : 'DATA_CSV';
      throw new DataFitError(code, `${file.name} does not fit this federation's task: ${err.message}`);
    }
    throw err;
  }
  checkFits(ds, task, file.name);
  return { ds, source: `${file.name} (${ds.n} rows)` };
}

/** The class a file belongs to: its folder's name, else the part of its name before _ or -. */
export function labelOf(file: File): string {
  const path = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
  const parts = path.split('/');
  if (parts.length >= 2) return parts[parts.length - 2]!;
  const m = /^([^_\-.]+)[_-]/.exec(file.name);
  return m ? m[1]! : '';
}

export function classIndex(label: string, task: TaskInfo): number | null {
  const named = task.labelNames.indexOf(label);
  if (named >= 0) return named;
  if (/^\d+$/.test(label)) return Number(label);
  return null;
}

export async function loadImages(files: readonly File[], task: TaskInfo): Promise<Prepared> {
  const images = files.filter((f) => IMAGE_FILE.test(f.name) || f.type.startsWith('image/'));
  if (images.length === 0) {
    throw new DataFitError(
      'DATA_EMPTY',
      'no image files (png, jpg, gif, bmp, webp) among the files you chose',
    );
  }
  const [H, W, C] = task.inputShape;
  if (task.inputShape.length !== 3 || !H || !W || (C !== 1 && C !== 3)) {
    throw new DataFitError(
      'DATA_SHAPE',
      `this federation's samples are [${task.inputShape.join(', ')}], not images: choose a CSV file`,
    );
  }
  const size = H * W * C;
  const x = new Float32Array(images.length * size);
  const y = new Int32Array(images.length);
  const wrongSize: string[] = [];
  const unknown = new Set<string>();
  const tooHigh = new Set<number>();
  const canvas = new OffscreenCanvas(W, H);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new DataFitError('DATA_IMAGE_UNREADABLE', 'this browser cannot read images in a worker');
  for (let k = 0; k < images.length; k++) {
    const file = images[k]!;
    const label = labelOf(file);
    const c = classIndex(label, task);
    if (c === null) unknown.add(label || `(none: ${file.name})`);
    else if (c >= task.numClasses) tooHigh.add(c);
    else y[k] = c;
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(file);
    } catch {
      throw new DataFitError('DATA_IMAGE_UNREADABLE', `${file.name} is not an image this browser can read`);
    }
    if (bitmap.width !== W || bitmap.height !== H) {
      wrongSize.push(`${file.name} is ${bitmap.width}×${bitmap.height}`);
      bitmap.close();
      continue;
    }
    ctx.clearRect(0, 0, W, H);
    ctx.drawImage(bitmap, 0, 0);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, W, H).data;
    const at = k * size;
    for (let p = 0; p < H * W; p++) {
      const r = rgba[4 * p]!;
      const g = rgba[4 * p + 1]!;
      const b = rgba[4 * p + 2]!;
      if (C === 1) x[at + p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
      else {
        x[at + 3 * p] = r / 255;
        x[at + 3 * p + 1] = g / 255;
        x[at + 3 * p + 2] = b / 255;
      }
    }
  }
  if (wrongSize.length > 0) {
    throw new DataFitError(
      'DATA_IMAGE_SIZE',
      `this federation's task takes ${W}×${H} images, but ${wrongSize.length} of yours differ (${wrongSize.slice(0, 3).join(', ')}${wrongSize.length > 3 ? ', …' : ''}): resize them to ${W}×${H}`,
    );
  }
  if (tooHigh.size > 0) {
    throw new DataFitError(
      'DATA_CLASS_COUNT',
      `this federation's task has ${task.numClasses} classes (0–${task.numClasses - 1}), but your data has class ${[...tooHigh].sort((a, b) => a - b).join(', ')}`,
    );
  }
  if (unknown.size > 0) {
    const names = task.labelNames.length > 0 ? task.labelNames.join(', ') : `0–${task.numClasses - 1}`;
    throw new DataFitError(
      'DATA_LABEL_UNKNOWN',
      `cannot tell the class of some images (labels: ${[...unknown].slice(0, 5).join(', ')}). Put each class in a folder named after it (${names}), or name files like "3_img.png"`,
    );
  }
  const ds: Dataset = { x, y, n: images.length, shape: [H, W, C], numClasses: task.numClasses };
  return { ds, source: `${images.length} images` };
}

function checkFits(ds: Dataset, task: TaskInfo, what: string): void {
  if (ds.n === 0) throw new DataFitError('DATA_EMPTY', `${what} holds no samples`);
  if (ds.shape.join('x') !== task.inputShape.join('x')) {
    throw new DataFitError(
      'DATA_SHAPE',
      `${what} has samples of shape [${ds.shape.join(', ')}]; this federation's task takes [${task.inputShape.join(', ')}]`,
    );
  }
  if (ds.numClasses > task.numClasses) {
    throw new DataFitError(
      'DATA_CLASS_COUNT',
      `${what} has ${ds.numClasses} classes; this federation's task has ${task.numClasses}`,
    );
  }
}

/** Holds out ~10% (at least 1 sample per 10, none below 20 samples) as the local validation set. */
export function splitValidation(ds: Dataset, seed = 1): { train: Dataset; validation: Dataset | undefined } {
  if (ds.n < 20) return { train: ds, validation: undefined };
  const order = new Rng(seed).permutation(ds.n);
  const nVal = Math.max(1, Math.round(ds.n * 0.1));
  const train = subset(ds, order.subarray(nVal));
  const validation = subset(ds, order.subarray(0, nVal));
  return { train: { ...train, numClasses: ds.numClasses }, validation };
}

export function perClass(ds: Dataset, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < ds.n; i++) counts[ds.y[i]!] = (counts[ds.y[i]!] ?? 0) + 1;
  return counts;
}
