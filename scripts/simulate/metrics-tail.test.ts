import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { JsonlTail, parseRecord } from './metrics-tail.ts';

const dir = mkdtempSync(join(tmpdir(), 'metrics-tail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (round: number) =>
  JSON.stringify({
    round,
    participant: 'p',
    testAccuracy: 0.5 + round / 100,
    bytesUp: 10,
    bytesDown: 20,
    t: 1e12 + round,
    valAccuracy: null,
  });

describe('metrics-out tail', () => {
  it('keeps FedAvg global scorings apart from rounds, the last one even without a newline', () => {
    const path = join(dir, 'global.jsonl');
    const tail = new JsonlTail(path);
    const global = (r: number, acc: number) =>
      JSON.stringify({
        event: 'global',
        round: r + 1,
        globalRound: r,
        participant: 'p',
        globalTestAccuracy: acc,
        t: 1e12 + r,
      });
    appendFileSync(path, `${line(1)}\n${global(1, 0.7)}\n${line(2)}\n${global(2, 0.8)}`);
    assert.deepEqual(
      tail.poll().map((r) => r.round),
      [1, 2],
    );
    assert.deepEqual(
      tail.globals.map((g) => [g.globalRound, g.globalTestAccuracy]),
      [[1, 0.7]],
    );
    tail.finish();
    assert.deepEqual(
      tail.globals.map((g) => [g.globalRound, g.globalTestAccuracy]),
      [
        [1, 0.7],
        [2, 0.8],
      ],
    );
    assert.equal(tail.records.length, 2);
    appendFileSync(path, `\n${JSON.stringify({ event: 'global', globalRound: 3, t: 1 })}\n`);
    tail.poll();
    assert.match(tail.errors[0]!, /"globalTestAccuracy" is missing/);
  });

  it('a missing file is empty', () => {
    assert.deepEqual(new JsonlTail(join(dir, 'none.jsonl')).poll(), []);
  });

  it('returns complete lines as they are appended; a half line waits', () => {
    const path = join(dir, 'a.jsonl');
    const tail = new JsonlTail(path);
    appendFileSync(path, `${line(1)}\n${line(2).slice(0, 10)}`);
    assert.deepEqual(
      tail.poll().map((r) => r.round),
      [1],
    );
    appendFileSync(path, `${line(2).slice(10)}\n${line(3)}\n`);
    assert.deepEqual(
      tail.poll().map((r) => r.round),
      [2, 3],
    );
    assert.deepEqual(tail.poll(), []);
    assert.equal(tail.records.length, 3);
  });

  it('finish() takes a last line without a newline', () => {
    const path = join(dir, 'b.jsonl');
    appendFileSync(path, `${line(1)}\n${line(2)}`);
    const tail = new JsonlTail(path);
    assert.equal(tail.poll().length, 1);
    assert.equal(tail.finish().length, 1);
    assert.equal(tail.records.length, 2);
  });

  it('a bad line is an error, not a crash; missing optional fields are 0', () => {
    const path = join(dir, 'c.jsonl');
    appendFileSync(path, `not json\n{"round":1}\n${line(4)}\n`);
    const tail = new JsonlTail(path);
    const got = tail.poll();
    assert.equal(got.length, 1);
    assert.equal(got[0]!.valAccuracy, 0);
    assert.equal(got[0]!.bytesDown, 20);
    assert.equal(tail.errors.length, 2);
    assert.match(tail.errors[1]!, /"testAccuracy" is missing/);
  });

  it('parseRecord rejects a non-object', () => {
    assert.ok(parseRecord('[1]') instanceof Error);
    assert.ok(parseRecord('3') instanceof Error);
  });
});
