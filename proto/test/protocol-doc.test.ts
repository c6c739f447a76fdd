/** PROTOCOL.md is normative for other-language clients: keep its tables and example in step with the code. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  decodeFrame,
  ERROR_POLICY,
  ErrorCode,
  type ErrorCodeName,
  PAYLOAD_ERROR_CODES,
  validatePredictionUpload,
  WIRE_FAULTS,
} from '../src/index.ts';

const doc = readFileSync(new URL('../PROTOCOL.md', import.meta.url), 'utf8');

describe('PROTOCOL.md', () => {
  it('lists every ErrorCode with its number, fatality and close code', () => {
    const rows = new Map<string, string[]>();
    for (const line of doc.split('\n')) {
      const m = /^\| `([A-Z_]+)` \| (\d+) \| (yes|no) \| (\d{4}) \|/.exec(line);
      if (m) rows.set(m[1]!, m.slice(2));
    }
    for (const name of Object.keys(ERROR_POLICY) as ErrorCodeName[]) {
      const row = rows.get(name);
      assert.ok(row, `${name} is missing from the error table`);
      const [num, fatal, close] = row;
      assert.equal(Number(num), ErrorCode[name], `${name} number`);
      assert.equal(fatal === 'yes', ERROR_POLICY[name].fatal, `${name} fatal`);
      assert.equal(Number(close), ERROR_POLICY[name].closeCode, `${name} close code`);
    }
    assert.equal(rows.size, Object.keys(ERROR_POLICY).length, 'no extra rows');
  });

  it('documents every detail code', () => {
    for (const d of [...WIRE_FAULTS, 'UINT64_RANGE', 'TEXT_FRAME', 'NOT_BINARY', ...PAYLOAD_ERROR_CODES]) {
      assert.ok(doc.includes(`\`${d}\``), `${d} is not documented`);
    }
  });

  it('its worked example decodes to what the annotation says', () => {
    const up = decodeFrame(
      Buffer.from(
        '08055a2808031003180220023204bf4020df3a1809000000000000e03f11000000000000ec3f28d80430b009',
        'hex',
      ),
      {
        maxFrameBytes: 1024,
      },
    );
    assert.ok(up.ok && up.body === 'predictions');
    const p = up.envelope.predictions;
    assert.equal(up.envelope.seq, 5);
    assert.deepEqual([p.round, p.encoding, p.rows, p.classes], [3, 3, 2, 2]);
    assert.deepEqual(
      [p.metrics?.trainLoss, p.metrics?.trainAccuracy, p.metrics?.samples, p.metrics?.trainMs],
      [0.5, 0.875, 600, 1200],
    );
    const probs = validatePredictionUpload(p, { rows: 2, classes: 2, allowedEncodings: ['uint8'] });
    assert.ok(probs.ok);
    assert.deepEqual(
      Array.from(probs.value, (v) => Math.round(v * 255)),
      [191, 64, 32, 223],
    );
    const ack = decodeFrame(Buffer.from('08041005ba010f0803180121000000000000e03f2804', 'hex'), {
      maxFrameBytes: 1024,
    });
    assert.ok(ack.ok && ack.body === 'ack');
    assert.deepEqual(
      [
        ack.envelope.seq,
        ack.envelope.replyTo,
        ack.envelope.ack.round,
        ack.envelope.ack.staleness,
        ack.envelope.ack.weight,
      ],
      [4, 5, 3, 1, 0.5],
    );
    assert.ok(
      doc.includes(
        '08055a2808031003180220023204bf4020df3a1809000000000000e03f11000000000000ec3f28d80430b009',
      ),
    );
    assert.ok(doc.includes('08041005ba010f0803180121000000000000e03f2804'));
  });
});
