/** The per-field bounds of the strict wire pass (decoding rule 9), and PROTOCOL.md's table of them. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import protobuf from 'protobufjs/minimal.js';
import {
  DEFAULT_MAX_STRING_BYTES,
  decodeFrame,
  encodeEnvelope,
  mutua,
  ProtocolError,
  WIRE_LIMITS,
} from '../src/index.ts';

const OPTS = { maxFrameBytes: 64 << 20 };
const hello = { protocolVersion: 1, joinToken: 'j'.repeat(20), numClasses: 10, inputShape: [28, 28, 1] };

function rejectsWith(bytes: Uint8Array, detail: string): ProtocolError {
  const r = decodeFrame(bytes, OPTS);
  assert.equal(r.ok, false, 'expected a rejection');
  if (r.ok) return undefined as never;
  assert.ok(r.error instanceof ProtocolError);
  assert.equal(r.error.code, 'BAD_FRAME', r.error.message);
  assert.equal(r.error.detail, detail, r.error.message);
  return r.error;
}

/** An Envelope (seq 1) whose Hello body is written by `write`, so packed and unpacked can be mixed. */
function rawHello(write: (w: protobuf.Writer) => void): Uint8Array {
  const inner = protobuf.Writer.create();
  inner.uint32((1 << 3) | 0).uint32(1); // protocol_version
  inner.uint32((2 << 3) | 2).string('j'.repeat(20)); // join_token
  inner.uint32((8 << 3) | 0).uint32(10); // num_classes
  write(inner);
  const body = inner.finish();
  const env = protobuf.Writer.create();
  env.uint32((1 << 3) | 0).uint32(1); // seq
  env.uint32((10 << 3) | 2).bytes(body); // hello
  return env.finish();
}

describe('wire limits', () => {
  it('accepts a Hello at its bounds', () => {
    const bytes = encodeEnvelope({
      seq: 1,
      hello: { ...hello, inputShape: [1, 2, 3, 4, 5, 6, 7, 8], name: 'n'.repeat(256) },
    });
    const r = decodeFrame(bytes, OPTS);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
  });

  it('rejects a packed input_shape over 8 elements before decoding it', () => {
    const bytes = encodeEnvelope({ seq: 1, hello: { ...hello, inputShape: [1, 2, 3, 4, 5, 6, 7, 8, 9] } });
    const e = rejectsWith(bytes, 'TOO_MANY_ELEMENTS');
    assert.match(e.message, /input_shape.*more than 8 elements/);
  });

  it('counts packed runs and unpacked occurrences of one field together', () => {
    const bytes = rawHello((w) => {
      w.uint32((7 << 3) | 2).fork();
      for (let i = 0; i < 5; i++) w.uint32(2);
      w.ldelim();
      for (let i = 0; i < 4; i++) w.uint32((7 << 3) | 0).uint32(2);
    });
    rejectsWith(bytes, 'TOO_MANY_ELEMENTS');
    const ok = rawHello((w) => {
      w.uint32((7 << 3) | 2).fork();
      for (let i = 0; i < 4; i++) w.uint32(2);
      w.ldelim();
      for (let i = 0; i < 4; i++) w.uint32((7 << 3) | 0).uint32(2);
    });
    const r = decodeFrame(ok, OPTS);
    assert.ok(r.ok && r.envelope.hello?.inputShape?.length === 8);
  });

  it('rejects an 8-million-element input_shape (the amplification attack) in the byte pass', () => {
    const bytes = rawHello((w) => {
      w.uint32((7 << 3) | 2).bytes(new Uint8Array(8_000_000).fill(1));
    });
    rejectsWith(bytes, 'TOO_MANY_ELEMENTS');
  });

  it('rejects a Hello name over 256 bytes and a string over the default bound', () => {
    rejectsWith(encodeEnvelope({ seq: 1, hello: { ...hello, name: 'n'.repeat(257) } }), 'FIELD_TOO_LONG');
    rejectsWith(encodeEnvelope({ seq: 1, leave: { reason: 'r'.repeat(1025) } }), 'FIELD_TOO_LONG');
    rejectsWith(
      encodeEnvelope({
        seq: 1,
        error: { code: 1, message: 'm'.repeat(DEFAULT_MAX_STRING_BYTES + 1) },
      }),
      'FIELD_TOO_LONG',
    );
  });

  it('names only messages that exist, with positive field numbers', () => {
    for (const [type, fields] of Object.entries(WIRE_LIMITS)) {
      const short = type.slice(type.lastIndexOf('.') + 1) as keyof typeof mutua.v1;
      const ctor = mutua.v1[short] as unknown as { encode: unknown } | undefined;
      assert.ok(ctor?.encode, `${type} is not a message`);
      for (const n of Object.keys(fields)) assert.ok(Number(n) > 0, `${type} field ${n}`);
    }
  });

  it('matches the table in PROTOCOL.md', () => {
    const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');
    const documented = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const m = /^ {3}\| `(\w+)` \| (.+?) \| (.+?) \|$/.exec(line);
      if (!m) continue;
      for (const f of m[2]!.matchAll(/`\w+` \((\d+)\)/g)) documented.set(`mutua.v1.${m[1]}:${f[1]}`, m[3]!);
    }
    const expected = new Map<string, string>();
    for (const [type, fields] of Object.entries(WIRE_LIMITS)) {
      for (const [n, limit] of Object.entries(fields)) {
        const parts = [];
        if (limit.maxElements !== undefined) parts.push(`${limit.maxElements} elements`);
        if (limit.maxBytes !== undefined) parts.push(`${limit.maxBytes} bytes${parts.length ? ' each' : ''}`);
        expected.set(`${type}:${n}`, parts.join(', '));
      }
    }
    assert.deepEqual(new Map([...documented].sort()), new Map([...expected].sort()));
  });
});
