/**
 * Wire uploads → the runtime's Submission: validated by the protocol codec against what
 * the federation expects (the batch's rows, the model's shape), or the coded error that
 * refuses them. One function per strategy's upload, mirroring the server's strategies.
 */
import {
  encodePredictions,
  type LocalMetricsInit,
  type PredictionUploadInit,
  ProtocolError,
  validatePredictionPayload,
  validateWeightsUpload,
  type WeightsUploadInit,
  weightEncodingName,
  weightSegmentsOf,
} from '@mutua/proto';
import type { Submission } from '../engine/runtime-types.ts';
import { checkBase, heldUploads } from './delta-payloads.ts';
import type { Admission } from './participant-connection.ts';
import { inflatePayload } from './payload-compression.ts';
import { rememberWeightLayout, wireToEncoding } from './wire-mapping.ts';

/** `acknowledged`: run once the upload is acknowledged (delta participants: its rows become the base). */
export type Mapped =
  | { ok: true; value: Submission; acknowledged?: () => void }
  | { ok: false; error: ProtocolError };

export function predictionSubmission(msg: PredictionUploadInit, a: Admission): Mapped {
  const version = Number(msg.round ?? 0);
  const C = a.settings.task.numClasses;
  const deltaBase = Number(msg.deltaBase ?? 0);
  let delta: { indices: Uint32Array; base: ReturnType<typeof heldUploads> } | undefined;
  if (a.delta !== null) {
    const indices = a.runtime.batchIndices(version, a.activeRows);
    const base = heldUploads(a.runtime, a.participantId, C);
    if (deltaBase !== 0) {
      if (indices === undefined) {
        return { ok: false, error: new ProtocolError('UNKNOWN_ROUND', `round ${version} was never issued`) };
      }
      const stale = checkBase(base, deltaBase);
      if (stale) return { ok: false, error: stale };
    }
    if (indices !== undefined) delta = { indices, base };
  }
  const valid = validatePredictionPayload(msg, {
    rows: a.runtime.batchRows(version, a.activeRows) ?? msg.rows ?? 0,
    classes: a.settings.task.numClasses,
    allowedEncodings: a.settings.encodings,
    maxK: a.settings.topk,
    compression: { allowed: a.compression === 'none' ? [] : [a.compression], inflate: inflatePayload },
    delta,
  });
  if (!valid.ok) return valid;
  const rows = msg.rows ?? 0;
  const k = msg.k ?? 0;
  const encoding = wireToEncoding(msg.encoding ?? 0);
  return {
    ok: true,
    acknowledged: delta && (() => delta.base.update(delta.indices, valid.value.probs, version)),
    value: {
      version,
      probs: valid.value.probs,
      encoding,
      // Stored inflated: a stored payload is always the encoding's own bytes (a delta's rows re-encoded whole).
      payload:
        deltaBase === 0
          ? valid.value.payload
          : encodePredictions(valid.value.probs, rows, C, encoding, encoding === 'topk' ? { k } : {}),
      rows: msg.rows ?? 0,
      classes: msg.classes ?? 0,
      k: msg.k ?? 0,
      // What travelled: the compressed length when compressed.
      bytes: (msg.payload ?? new Uint8Array(0)).byteLength,
      metrics: metricsRecord(msg.metrics),
    },
  };
}

export function weightsSubmission(msg: WeightsUploadInit, a: Admission): Mapped {
  // The first accepted upload fixes the federation's model shape.
  const expect = a.runtime.modelShape ?? { count: msg.count ?? 0, signature: msg.modelSignature ?? '' };
  const params = validateWeightsUpload(msg, expect);
  if (!params.ok) return params;
  const payload = msg.payload ?? new Uint8Array(0);
  const weightEncoding = weightEncodingName(msg.encoding) ?? 'float32';
  // Global weights go down 8-bit in the tensor layout the participants upload.
  if (weightEncoding === 'uint8') rememberWeightLayout(msg.modelSignature ?? '', weightSegmentsOf(payload));
  return {
    ok: true,
    value: {
      version: Number(msg.round ?? 0),
      params: params.value,
      signature: msg.modelSignature ?? '',
      numSamples: msg.numSamples ?? 0,
      // Stored as the weight encoding's name: 'uint8' on a weights row is the affine layout.
      encoding: weightEncoding,
      payload,
      rows: 0,
      classes: 0,
      k: 0,
      bytes: payload.byteLength,
      metrics: metricsRecord(msg.metrics),
    },
  };
}

/** Finite numbers and booleans (as 0/1) of a LocalMetrics message. */
export function metricsRecord(m: LocalMetricsInit | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (typeof v === 'boolean') out[k] = v ? 1 : 0;
  }
  return out;
}
