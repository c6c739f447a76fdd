import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AsyncRoundPolicy } from './async-round-policy.ts';
import { online, version } from './round-policy.testing.ts';
import { RuntimeError } from './runtime-types.ts';

const policy = (over: Partial<{ bufferK: number; stalenessExponent: number; maxStaleness: number }> = {}) =>
  new AsyncRoundPolicy({ bufferK: 3, stalenessExponent: 0.5, maxStaleness: 2, ...over });
const code = (c: string) => (e: unknown) => e instanceof RuntimeError && e.code === c;

describe('AsyncRoundPolicy', () => {
  it('opens only the first version on demand and keeps maxStaleness versions', () => {
    const p = policy();
    assert.equal(p.mayOpen(0, 0), false);
    assert.equal(p.mayOpen(0, 1), true);
    assert.equal(p.mayOpen(3, 10), false, 'later versions open when one publishes');
    assert.equal(p.keepVersions, 2);
    assert.equal(p.closesOnPublish, false);
    assert.equal(p.skipsBusy, true);
  });

  it('weights a contribution tau versions old by (1 + tau)^-a and refuses beyond maxStaleness', () => {
    const p = policy();
    assert.deepEqual(p.admit(version(5), 5), { staleness: 0, weight: 1 });
    const one = p.admit(version(4), 5);
    assert.equal(one.staleness, 1);
    assert.ok(Math.abs(one.weight - 2 ** -0.5) < 1e-12);
    assert.throws(() => p.admit(version(2), 5), code('TOO_STALE'), 'tau = 3 is over the limit');
  });

  it('refuses TOO_STALE with the staleness and the limit in the message', () => {
    const p = policy();
    const weight = p.admit(version(3), 5);
    assert.equal(weight.staleness, 2);
    assert.ok(Math.abs(weight.weight - 3 ** -0.5) < 1e-12);
    assert.throws(
      () => p.admit(version(2), 5),
      (e: unknown) => code('TOO_STALE')(e) && /3 versions old \(max 2\)/.test((e as Error).message),
    );
    const gone = p.rejectGone(1, 5);
    assert.ok(code('TOO_STALE')(gone));
    assert.match(gone.message, /version 1 is 4 versions old \(max 2\)/);
  });

  it('publishes after bufferK new contributions', () => {
    const p = policy();
    const facts = { current: version(4, ['a']), online: online('a', 'b', 'c', 'd'), graceActive: false };
    assert.equal(p.publishReason({ ...facts, newSincePublish: 0 }), null);
    assert.equal(p.publishReason({ ...facts, newSincePublish: 2 }), null);
    assert.equal(p.publishReason({ ...facts, newSincePublish: 3 }), 'buffer');
    assert.equal(p.publishReason({ ...facts, graceActive: true, newSincePublish: 3 }), 'buffer');
  });

  it('publishes sooner when everyone online already contributed, unless a grace awaits others', () => {
    const p = policy();
    const facts = { current: version(4, ['a', 'b']), newSincePublish: 2, graceActive: false };
    assert.equal(p.publishReason({ ...facts, online: online('a', 'b') }), 'all-waiting');
    assert.equal(p.publishReason({ ...facts, online: online('a', 'b', 'c') }), null);
    assert.equal(p.publishReason({ ...facts, online: online() }), null, 'nobody online');
    assert.equal(p.publishReason({ ...facts, graceActive: true, online: online('a', 'b') }), null);
  });

  it('feeds the consensus from every version contributed to since the last publish; no deadline', () => {
    const p = policy();
    const clean = { ...version(2, ['x']), dirty: false };
    assert.deepEqual(p.sourceVersions([version(1), clean, version(3, ['a']), version(4, ['b'])]), [3, 4]);
    assert.equal(p.taskDeadline(), 0);
  });
});
