/**
 * The federation's published global student: a TF.js layers-format model (model.json +
 * weights.bin, quantized weights allowed) uploaded by `mutua federation distill`, kept in
 * the data directory (`<dataDir>/students/<federationId>/`) and served for download.
 * One student per federation: a new upload replaces the previous one. Files are written
 * to temporaries and renamed, student.json last, so a reader never sees half a student.
 *
 * Not shared between cluster replicas (each has its own data dir): in a cluster, upload to
 * and download from the same replica (docs/scaling.md).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_STUDENT_BYTES, type StudentUploadBody, type StudentView } from '@mutua/proto/rest';
import type { Db } from '../db/index.ts';
import { badRequest, HttpError } from '../errors.ts';
import { liveFederation } from './consensus-targets.ts';

export const STUDENT_FILES = { model: 'model.json', weights: 'weights.bin', info: 'student.json' } as const;

/** Bytes per stored value of a weights-manifest entry (quantized entries store their quantized dtype). */
const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

export class StudentStore {
  constructor(
    private readonly db: Db,
    private readonly dataDir: string,
  ) {}

  private dir(federationId: string): string {
    // Federation ids are uuids; the federation is looked up first, so no path escapes the folder.
    return join(this.dataDir, 'students', federationId);
  }

  async put(federationId: string, body: StudentUploadBody): Promise<StudentView> {
    await liveFederation(this.db, federationId);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.weights) || body.weights.length % 4 !== 0)
      throw badRequest('weights must be base64 (weights.bin)');
    const weights = Buffer.from(body.weights, 'base64');
    if (weights.byteLength > MAX_STUDENT_BYTES)
      throw new HttpError('MUTUA_ERR_BODY_TOO_LARGE', `weights.bin is over ${MAX_STUDENT_BYTES} bytes`);
    const model = checkModelJson(body.model, weights.byteLength);
    const modelJson = `${JSON.stringify(model)}\n`;
    if (Buffer.byteLength(modelJson) > MAX_STUDENT_BYTES)
      throw new HttpError('MUTUA_ERR_BODY_TOO_LARGE', `model.json is over ${MAX_STUDENT_BYTES} bytes`);
    const dir = this.dir(federationId);
    const view: StudentView = {
      federationId,
      info: body.info,
      sha256: createHash('sha256').update(weights).digest('hex'),
      weightBytes: weights.byteLength,
      modelJsonBytes: Buffer.byteLength(modelJson),
      modelUrl: `/v1/federations/${federationId}/student/${STUDENT_FILES.model}`,
      weightsUrl: `/v1/federations/${federationId}/student/${STUDENT_FILES.weights}`,
      uploadedAt: new Date().toISOString(),
    };
    await mkdir(dir, { recursive: true });
    await writeAtomic(join(dir, STUDENT_FILES.weights), weights);
    await writeAtomic(join(dir, STUDENT_FILES.model), modelJson);
    await writeAtomic(join(dir, STUDENT_FILES.info), `${JSON.stringify(view)}\n`);
    return view;
  }

  async get(federationId: string): Promise<StudentView> {
    await liveFederation(this.db, federationId);
    return JSON.parse((await this.read(federationId, STUDENT_FILES.info)).toString('utf8')) as StudentView;
  }

  /** model.json or weights.bin of the federation's student. */
  async file(federationId: string, name: 'model' | 'weights'): Promise<Buffer> {
    await liveFederation(this.db, federationId);
    return this.read(federationId, STUDENT_FILES[name]);
  }

  private async read(federationId: string, file: string): Promise<Buffer> {
    try {
      return await readFile(join(this.dir(federationId), file));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      throw new HttpError(
        'MUTUA_ERR_NO_STUDENT',
        `federation ${federationId} has no published student: mutua federation distill ${federationId} --out DIR`,
      );
    }
  }
}

async function writeAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * A TF.js layers-format model.json whose one weights group is `weights.bin` and whose
 * entries add up to exactly `weightBytes`; returned with only the fields tfjs reads.
 */
function checkModelJson(model: Record<string, unknown>, weightBytes: number): Record<string, unknown> {
  const topology = model.modelTopology;
  if (typeof topology !== 'object' || topology === null || Array.isArray(topology))
    throw badRequest('model.modelTopology must be a layers-model topology (an object)');
  if (model.format !== undefined && model.format !== 'layers-model')
    throw badRequest(`model.format must be "layers-model", not ${JSON.stringify(model.format)}`);
  const manifest = model.weightsManifest;
  if (!Array.isArray(manifest) || manifest.length !== 1)
    throw badRequest('model.weightsManifest must hold one group (all weights in weights.bin)');
  const weights = (manifest[0] as { weights?: unknown }).weights;
  if (!Array.isArray(weights)) throw badRequest('model.weightsManifest[0].weights must be an array');
  let expected = 0;
  for (const [i, w] of weights.entries()) {
    const e = w as { name?: unknown; shape?: unknown; dtype?: unknown; quantization?: { dtype?: unknown } };
    const dtype = String(e.quantization?.dtype ?? e.dtype);
    const shapeOk =
      Array.isArray(e.shape) && e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
    if (typeof e.name !== 'string' || !shapeOk || !(dtype in BYTES))
      throw badRequest(`model.weightsManifest[0].weights[${i}] needs a name, a shape and a known dtype`);
    expected += (e.shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype]!;
  }
  if (expected !== weightBytes)
    throw badRequest(`the weights manifest describes ${expected} bytes but weights.bin has ${weightBytes}`);
  const out: Record<string, unknown> = {
    modelTopology: topology,
    format: 'layers-model',
    generatedBy: typeof model.generatedBy === 'string' ? model.generatedBy : null,
    convertedBy: typeof model.convertedBy === 'string' ? model.convertedBy : null,
    weightsManifest: [{ paths: [STUDENT_FILES.weights], weights }],
  };
  if (typeof model.userDefinedMetadata === 'object' && model.userDefinedMetadata !== null)
    out.userDefinedMetadata = model.userDefinedMetadata;
  return out;
}
