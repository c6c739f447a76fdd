import assert from 'node:assert/strict';
import { it } from 'node:test';
import { decodeFrame, encodeEnvelope } from '@mutua/proto';
import {
  buildFrame,
  CLIENT_BODIES,
  type FrameContext,
  MUTATIONS,
  pickMutation,
  validBody,
} from './frames.ts';
import { Rng } from './rng.ts';

const ctx = (): FrameContext => ({
  seq: 5,
  round: 3,
  rows: 16,
  classes: 4,
  inputShape: [8],
  joinToken: 'tok',
  maxFrameBytes: 4096,
});

it('a seed replays the same frames', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 200; i++) {
    const fa = buildFrame(a, ctx(), pickMutation(a));
    const fb = buildFrame(b, ctx(), pickMutation(b));
    assert.equal(fa.kind, fb.kind);
    assert.deepEqual(fa.data, fb.data);
  }
});

it('every mutation builds a frame, and the valid bodies decode as what they claim', () => {
  const rng = new Rng(1);
  for (const m of MUTATIONS) {
    const f = buildFrame(rng, ctx(), m);
    assert.ok(f.kind.startsWith(`${m}/`), f.kind);
  }
  for (const body of CLIENT_BODIES) {
    const bytes = encodeEnvelope({ ...validBody(rng, body, ctx()), seq: 1 });
    const r = decodeFrame(bytes, { maxFrameBytes: 1 << 20 });
    assert.ok(r.ok && r.body === body, body);
  }
});

it('oversized frames exceed the limit in force', () => {
  const rng = new Rng(3);
  for (let i = 0; i < 5; i++) {
    const f = buildFrame(rng, ctx(), 'oversized');
    assert.ok((f.data as Uint8Array).byteLength > 4096);
  }
});
