/**
 * Quantized export of a trained model: `<dir>/float32`, `<dir>/float16` and `<dir>/uint8`,
 * each a TF.js layers-format folder (model.json + weights.bin) that stock
 * `tf.loadLayersModel` loads unchanged (the quantization is in the manifest, as the TF.js
 * converter writes it), plus `weights.bin.gz` beside each weights.bin.
 *
 * The .gz is the sparse-aware download: pruned weights are exact zeros, which uint8 maps to
 * one byte value (the zero point), so gzip stores them in a fraction of a bit each. It is
 * the same bytes, gzip-encoded: a static server that answers `weights.bin` with
 * `Content-Encoding: gzip` (nginx `gzip_static on`, most CDNs) lets a browser's stock
 * loadLayersModel fetch the .gz and decode it transparently; in Node, loadExportDir(dir,
 * { gzip: true }) does the gunzip. The sizes reported are the files' bytes on disk.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { quantizedArtifacts, WEIGHT_ENCODINGS, type WeightEncoding } from '@mutua/core/compress';
import type { Dataset } from '@mutua/core/data';
import { evaluate } from '@mutua/core/distill';
import * as tf from '@tensorflow/tfjs';
import { fileSystemHandler, MODEL_JSON, WEIGHTS_BIN } from './model-files.ts';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

export interface ExportResult {
  encoding: WeightEncoding;
  dir: string;
  /** weights.bin bytes. */
  weightBytes: number;
  /** weights.bin.gz bytes (what a device downloads when served gzip-encoded). */
  gzipBytes: number;
  modelJsonBytes: number;
  /** Test accuracy of the model as loaded back from the exported files (when a test set was given). */
  accuracy?: number;
}

/** Writes the three variants (+ .gz) under `dir`; scores each reloaded file on `test` if given. */
export async function exportVariants(
  model: tf.LayersModel,
  dir: string,
  test?: Dataset,
  metadata?: Record<string, unknown>,
): Promise<ExportResult[]> {
  const out: ExportResult[] = [];
  for (const encoding of WEIGHT_ENCODINGS) {
    const sub = join(dir, encoding);
    await fileSystemHandler(sub).save(quantizedArtifacts(model, encoding, metadata));
    const bin = await readFile(join(sub, WEIGHTS_BIN));
    await writeFile(join(sub, `${WEIGHTS_BIN}.gz`), await gzip(bin, { level: 9 }));
    const r: ExportResult = {
      encoding,
      dir: sub,
      weightBytes: bin.byteLength,
      gzipBytes: (await stat(join(sub, `${WEIGHTS_BIN}.gz`))).size,
      modelJsonBytes: (await stat(join(sub, MODEL_JSON))).size,
    };
    if (test) {
      const loaded = await loadExportDir(sub, { gzip: true });
      try {
        r.accuracy = (await evaluate(loaded, test)).accuracy;
      } finally {
        loaded.dispose();
      }
    }
    out.push(r);
  }
  return out;
}

/**
 * Loads an exported folder with tf.loadLayersModel; with `gzip`, the weights come from
 * weights.bin.gz (as a browser gets them from a gzip-encoding server).
 */
export async function loadExportDir(dir: string, opts: { gzip?: boolean } = {}): Promise<tf.LayersModel> {
  if (!opts.gzip) return tf.loadLayersModel(fileSystemHandler(dir));
  const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
  const bytes = await gunzip(await readFile(join(dir, `${WEIGHTS_BIN}.gz`)));
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => [
    manifest.flatMap((g) => g.weights),
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
  ]);
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}
