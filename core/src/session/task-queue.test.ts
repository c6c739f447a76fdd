import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type TaskInHand, TaskQueue } from './task-queue.ts';

function task(round: number, mode: 'sync' | 'async' = 'sync'): TaskInHand {
  return { round, mode, predictIndices: Uint32Array.of(round), localEpochs: 1, deadlineUnixMs: 0 };
}

describe('TaskQueue', () => {
  test('the first task starts; a repeat of the round in hand is ignored', () => {
    const q = new TaskQueue();
    const t1 = task(1);
    assert.deepEqual(q.offer(t1), { kind: 'start', task: t1 });
    assert.equal(q.current, t1);
    assert.deepEqual(q.offer(task(1)), { kind: 'ignored' });
    assert.deepEqual(q.offer(task(0)), { kind: 'ignored' });
    assert.equal(q.next, null);
  });

  test('sync: a newer task is queued and supersedes the task in hand', () => {
    const q = new TaskQueue();
    q.offer(task(1));
    assert.deepEqual(q.offer(task(2)), { kind: 'queued', abortInHand: true });
    assert.equal(q.next?.round, 2);
    assert.equal(q.current?.round, 1);
  });

  test('async: a newer task waits for the task in hand, the newest queued one wins', () => {
    const q = new TaskQueue();
    q.offer(task(1, 'async'));
    assert.deepEqual(q.offer(task(2, 'async')), { kind: 'queued', abortInHand: false });
    assert.deepEqual(q.offer(task(3, 'async')), { kind: 'queued', abortInHand: false });
    // Not newer than the queued round 3: a repeat.
    assert.deepEqual(q.offer(task(3, 'async')), { kind: 'ignored' });
    assert.deepEqual(q.offer(task(2, 'async')), { kind: 'ignored' });
    assert.equal(q.finished(true)?.round, 3);
    assert.equal(q.current?.round, 3);
    assert.equal(q.next, null);
  });

  test('acknowledged rounds are repeats, and a queued task they overtook is dropped', () => {
    const q = new TaskQueue();
    q.offer(task(1));
    q.offer(task(2));
    q.acknowledged(2);
    assert.equal(q.lastAckedRound, 2);
    assert.equal(q.finished(true), null, 'round 2 was acknowledged meanwhile');
    assert.equal(q.current, null);
    assert.deepEqual(q.offer(task(2)), { kind: 'ignored' });
    assert.equal(q.offer(task(3)).kind, 'start');
    q.acknowledged(1);
    assert.equal(q.lastAckedRound, 2, 'never goes back');
  });

  test('finished(false) keeps the queued task until advance()', () => {
    const q = new TaskQueue();
    q.offer(task(1));
    q.offer(task(2));
    assert.equal(q.finished(false), null);
    assert.equal(q.current, null);
    assert.equal(q.next?.round, 2);
    const next = q.advance();
    assert.equal(next?.round, 2);
    assert.equal(q.current, next);
    assert.equal(q.advance(), null, 'nothing more queued, and a task is in hand');
  });

  test('clearQueued drops the queued task; restart() makes old round numbers new again', () => {
    const q = new TaskQueue();
    q.offer(task(5));
    q.offer(task(6));
    q.clearQueued();
    assert.equal(q.finished(true), null);
    q.acknowledged(5);
    assert.deepEqual(q.offer(task(1)), { kind: 'ignored' });
    q.restart();
    assert.equal(q.lastAckedRound, 0);
    assert.equal(q.offer(task(1)).kind, 'start');
  });
});
