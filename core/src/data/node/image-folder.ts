/**
 * Node-only: users' own images, laid out as one subfolder per label (as torchvision's
 * ImageFolder and Keras' image_dataset_from_directory expect):
 *
 *   root/cat/001.png, root/cat/002.jpg, root/dog/a.jpeg, ...
 *
 * - Labels are the subfolder names in sorted (code-unit) order: label i = labelNames[i].
 * - Files are .png, .jpg and .jpeg (any case) and are read in sorted order within a label,
 *   so the result is deterministic; other files and names starting with '.' are ignored.
 *   The format is detected from the bytes, not the extension.
 * - No resizing: every image must already be h x w (a wrong-sized one is an error naming
 *   the file). Channels: c = 1 converts to grayscale with the ITU-R BT.601 luma weights
 *   (0.299 R + 0.587 G + 0.114 B, as PIL's convert('L')), c = 3 keeps RGB, c = 4 keeps RGBA;
 *   with c < 4 alpha is dropped, not composited.
 * - Pixels are scaled to [0, 1].
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Dataset } from '../dataset.ts';
import { checkInt, DataError } from '../errors.ts';

export interface ImageFolderOptions {
  /**
   * [height, width, channels], channels 1, 3 or 4. Default: the first image's height and
   * width, and 3 channels.
   */
  readonly shape?: readonly [number, number, number];
  /** File extensions to read, lower case with the dot. Default ['.png', '.jpg', '.jpeg']. */
  readonly extensions?: readonly string[];
}

interface Rgba {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes. */
  readonly data: Uint8Array;
}

const READ_AHEAD = 16;

export async function loadImageFolder(root: string, options: ImageFolderOptions = {}): Promise<Dataset> {
  const extensions = new Set((options.extensions ?? ['.png', '.jpg', '.jpeg']).map((e) => e.toLowerCase()));
  if (options.shape !== undefined) {
    const [h, w, c] = options.shape;
    checkInt('shape height', h, 1);
    checkInt('shape width', w, 1);
    if (c !== 1 && c !== 3 && c !== 4) {
      throw new DataError('DATA_INVALID_OPTION', `shape channels must be 1, 3 or 4, got ${c}`);
    }
  }

  const labelNames: string[] = [];
  for (const entry of await listDir(root)) {
    if (await isDirectory(root, entry)) labelNames.push(entry.name);
  }
  labelNames.sort();
  if (labelNames.length === 0) {
    throw new DataError(
      'DATA_IMAGE_FOLDER_EMPTY',
      'no label subfolders (expected one subfolder of images per label)',
      {
        file: root,
      },
    );
  }
  const files: { path: string; label: number }[] = [];
  for (const [label, name] of labelNames.entries()) {
    const folder = join(root, name);
    const images = (await listDir(folder))
      .filter((e) => !e.isDirectory() && extensions.has(extname(e.name).toLowerCase()))
      .map((e) => e.name)
      .sort();
    if (images.length === 0) {
      throw new DataError(
        'DATA_IMAGE_CLASS_EMPTY',
        `label '${name}' has no ${[...extensions].join('/')} files`,
        {
          file: folder,
        },
      );
    }
    for (const image of images) files.push({ path: join(folder, image), label });
  }

  let shape = options.shape;
  let x: Float32Array | undefined;
  const y = new Int32Array(files.length);
  // Reads run ahead of decoding (which is synchronous) so disk and CPU overlap.
  const pending: (Promise<Uint8Array> | undefined)[] = [];
  const startRead = (k: number) => {
    if (k >= files.length) return;
    const p = readImageFile(files[k]!.path);
    p.catch(() => {}); // awaited below; this only keeps an early exit from leaving it unhandled
    pending[k] = p;
  };
  for (let k = 0; k < READ_AHEAD; k++) startRead(k);
  for (let k = 0; k < files.length; k++) {
    const bytes = await pending[k]!;
    pending[k] = undefined;
    startRead(k + READ_AHEAD);
    const { path, label } = files[k]!;
    const image = decodeImage(bytes, path);
    shape ??= [image.height, image.width, 3];
    const [h, w, c] = shape;
    if (image.height !== h || image.width !== w) {
      throw new DataError(
        'DATA_IMAGE_WRONG_SIZE',
        `image is ${image.width}x${image.height} (width x height), expected ${w}x${h}; resize it first`,
        { file: path },
      );
    }
    x ??= new Float32Array(files.length * h * w * c);
    writePixels(image, c, x, k * h * w * c);
    y[k] = label;
  }
  return { x: x!, y, n: files.length, shape: [...shape!], numClasses: labelNames.length, labelNames };
}

async function listDir(dir: string): Promise<Dirent[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new DataError('DATA_FILE_NOT_FOUND', 'no such folder', { file: dir, cause: err });
    throw new DataError('DATA_FILE_UNREADABLE', `cannot list the folder (${code ?? String(err)})`, {
      file: dir,
      cause: err,
    });
  }
}

async function isDirectory(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await stat(join(dir, entry.name))).isDirectory();
  } catch {
    return false; // a dangling link is not a label
  }
}

async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new DataError(
      'DATA_IMAGE_UNREADABLE',
      `cannot read (${(err as NodeJS.ErrnoException).code ?? err})`,
      {
        file: path,
        cause: err,
      },
    );
  }
}

function decodeImage(bytes: Uint8Array, path: string): Rgba {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8;
  if (!isPng && !isJpeg) {
    throw new DataError('DATA_IMAGE_UNREADABLE', 'neither a PNG nor a JPEG (checked the first bytes)', {
      file: path,
    });
  }
  try {
    if (isPng) {
      // pngjs normalises every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    return jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  } catch (err) {
    throw new DataError(
      'DATA_IMAGE_UNREADABLE',
      `cannot decode the ${isPng ? 'PNG' : 'JPEG'} (${err instanceof Error ? err.message : String(err)})`,
      { file: path, cause: err },
    );
  }
}

function writePixels(image: Rgba, channels: number, x: Float32Array, offset: number): void {
  const src = image.data;
  const pixels = image.width * image.height;
  let o = offset;
  for (let p = 0; p < pixels; p++) {
    const s = 4 * p;
    if (channels === 1) {
      x[o++] = (0.299 * src[s]! + 0.587 * src[s + 1]! + 0.114 * src[s + 2]!) / 255;
    } else {
      for (let ch = 0; ch < channels; ch++) x[o++] = src[s + ch]! / 255;
    }
  }
}
