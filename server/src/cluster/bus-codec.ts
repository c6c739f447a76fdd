/**
 * What crosses the NATS bus between replicas, as bytes: a JSON header and binary parts
 * (payloads and float arrays travel raw, never as base64). Frame: u32 header length, the
 * UTF-8 JSON header, u32 part count, then per part u32 length and its bytes.
 */

import type { StoredSubmission } from '../db/store.ts';
import type { ConsensusWire, StateAnnouncement } from '../engine/cluster-port.ts';
import type { EncodingName } from '../engine/settings.ts';

export class BusCodecError extends Error {
  readonly code = 'MUTUA_ERR_CLUSTER_FRAME';
}

export function frame(header: unknown, parts: readonly Uint8Array[] = []): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  let size = 8 + json.length;
  for (const p of parts) size += 4 + p.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 4);
  let o = 4 + json.length;
  out.writeUInt32LE(parts.length, o);
  o += 4;
  for (const p of parts) {
    out.writeUInt32LE(p.byteLength, o);
    out.set(p, o + 4);
    o += 4 + p.byteLength;
  }
  return out;
}

export function unframe<T>(bytes: Uint8Array): { header: T; parts: Uint8Array[] } {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8) throw new BusCodecError('frame too short');
  const jsonLen = b.readUInt32LE(0);
  if (8 + jsonLen > b.length) throw new BusCodecError('frame header overruns the frame');
  const header = JSON.parse(b.subarray(4, 4 + jsonLen).toString('utf8')) as T;
  let o = 4 + jsonLen;
  const n = b.readUInt32LE(o);
  o += 4;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    if (o + 4 > b.length) throw new BusCodecError('frame part overruns the frame');
    const len = b.readUInt32LE(o);
    if (o + 4 + len > b.length) throw new BusCodecError('frame part overruns the frame');
    // A copy: aligned for Float32Array views, and independent of the receive buffer.
    parts.push(new Uint8Array(b.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  return { header, parts };
}

const floats = (f: Float32Array) => new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
const toFloats = (u: Uint8Array) => new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);

type UploadHeader = Omit<StoredSubmission, 'payload' | 'receivedAt' | 'metrics'> & {
  receivedAt: number;
  signature?: string;
};

/**
 * Durable uploads, announced to the owner (metrics stay in the database): one message per
 * group commit rather than per upload. The header is the list of upload headers; part i is
 * upload i's payload. (A single header object, as replicas before batching sent, is read
 * as a list of one.)
 */
export function encodeUploads(list: readonly { stored: StoredSubmission; signature?: string }[]): Uint8Array {
  const headers: UploadHeader[] = [];
  const parts: Uint8Array[] = [];
  for (const { stored, signature } of list) {
    const { payload, receivedAt, metrics: _metrics, ...rest } = stored;
    headers.push({ ...rest, receivedAt: receivedAt.getTime(), signature });
    parts.push(payload);
  }
  return frame(headers, parts);
}

export function decodeUploads(bytes: Uint8Array): { stored: StoredSubmission; signature?: string }[] {
  const { header, parts } = unframe<UploadHeader | UploadHeader[]>(bytes);
  const headers = Array.isArray(header) ? header : [header];
  if (headers.length !== parts.length) throw new BusCodecError('malformed upload announcement');
  return headers.map((h, i) => {
    const { signature, receivedAt, ...rest } = h ?? ({} as UploadHeader);
    if (typeof rest.participantId !== 'string' || !Number.isInteger(rest.version))
      throw new BusCodecError('malformed upload announcement');
    return {
      stored: {
        ...rest,
        encoding: rest.encoding as EncodingName,
        payload: parts[i]!,
        receivedAt: new Date(receivedAt),
        metrics: {},
      },
      signature,
    };
  });
}

export function encodeState(a: StateAnnouncement): Uint8Array {
  if (a.type === 'opened' || !a.consensus) return frame(a);
  const c = a.consensus;
  if (c.kind === 'fedavg') return frame({ ...a, consensus: { ...c, params: 0 } }, [floats(c.params)]);
  const batches = c.batches.map((b, i) => ({ ...b, all: i }));
  return frame(
    { ...a, consensus: { ...c, batches } },
    c.batches.map((b) => floats(b.all)),
  );
}

export function decodeState(bytes: Uint8Array): StateAnnouncement {
  const { header, parts } = unframe<StateAnnouncement>(bytes);
  if (header.type === 'opened' || !header.consensus) return header;
  const c = header.consensus as ConsensusWire;
  const part = (i: unknown) => {
    const p = parts[i as number];
    if (!p) throw new BusCodecError('consensus part missing');
    return toFloats(p);
  };
  const consensus: ConsensusWire =
    c.kind === 'fedavg'
      ? { ...c, params: part(c.params) }
      : { ...c, batches: c.batches.map((b) => ({ ...b, all: part(b.all) })) };
  return { ...header, consensus };
}
