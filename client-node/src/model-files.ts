/**
 * Models on disk in the TF.js layers format, the format `tf.loadLayersModel` reads in a
 * browser: a `model.json` (modelTopology, format 'layers-model', weightsManifest naming
 * `weights.bin`) and a `weights.bin` holding every weight, concatenated in manifest order.
 *
 * tfjs only writes to file:// with tfjs-node, which the client does not require, so this is
 * a small IOHandler of its own. Serve an exported folder over HTTP and
 * `tf.loadLayersModel('https://…/model.json')` loads it as is.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
export const LAYERS_MODEL_FORMAT = 'layers-model';

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * An IOHandler reading and writing `dir/model.json` + `dir/weights.bin`. `save` writes the
 * weights first and model.json last, each atomically, so model.json only ever names complete
 * weights; saveModelDir() adds a directory swap for checkpoints that must survive a crash.
 */
export function fileSystemHandler(dir: string): Required<Pick<tf.io.IOHandler, 'save' | 'load'>> {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer || !artifacts.modelTopology) {
        throw new TypeError('fileSystemHandler saves layers models (a JSON topology) only');
      }
      const weights = new Uint8Array(
        artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0),
      );
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? LAYERS_MODEL_FORMAT,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, WEIGHTS_BIN), weights);
      await writeAtomic(join(dir, MODEL_JSON), `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const json = JSON.parse(await readFile(join(dir, MODEL_JSON), 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const path of group.paths) {
            const bytes = await readFile(resolve(dir, path));
            buffers.push(
              bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
            );
          }
        }
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/**
 * The model's artifacts as model.save() would produce them, with the weights copied in the
 * calling tick: the training of the next round may start right after (async federations),
 * and the saved weights must be those of the round just acknowledged.
 */
export async function snapshotArtifacts(
  model: tf.LayersModel,
  metadata?: Record<string, unknown>,
): Promise<tf.io.ModelArtifacts> {
  // clone() shares the data and holds a reference to it, so later variable writes leave it intact.
  const named = model.weights.map((w) => ({ name: w.originalName, tensor: w.read().clone() }));
  try {
    const { data, specs } = await tf.io.encodeWeights(named);
    const artifacts: tf.io.ModelArtifacts = {
      modelTopology: model.toJSON(null, false) as tf.io.ModelArtifacts['modelTopology'],
      format: LAYERS_MODEL_FORMAT,
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs} (Mutua client)`,
      convertedBy: null,
      weightSpecs: specs,
      weightData: data,
    };
    if (metadata) artifacts.userDefinedMetadata = { mutua: metadata as object };
    return artifacts;
  } finally {
    for (const { tensor } of named) tensor.dispose();
  }
}

/**
 * Writes the artifacts into `dir` crash-safely: into a fresh sibling directory first, then
 * swapped into place, so `dir` holds either the previous model or the new one, never a mix.
 */
export async function saveModelDir(dir: string, artifacts: tf.io.ModelArtifacts): Promise<void> {
  const next = `${dir}.next`;
  const old = `${dir}.old`;
  await rm(next, { recursive: true, force: true });
  await fileSystemHandler(next).save(artifacts);
  await rm(old, { recursive: true, force: true });
  try {
    await rename(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await rename(next, dir);
  await rm(old, { recursive: true, force: true });
}

/** Loads a model saved by this module (or any TF.js layers-format folder). */
export function loadModelDir(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemHandler(dir));
}
