import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeHost, online, version } from './round-policy.testing.ts';
import { RuntimeError } from './runtime-types.ts';
import { SyncRoundPolicy } from './sync-round-policy.ts';

const settings = (over: Partial<{ quorum: number; deadlineMs: number; minParticipants: number }> = {}) => ({
  quorum: 0,
  deadlineMs: 0,
  minParticipants: 1,
  ...over,
});
const code = (c: string) => (e: unknown) => e instanceof RuntimeError && e.code === c;

describe('SyncRoundPolicy', () => {
  it('opens a round once minParticipants are online', () => {
    const p = new SyncRoundPolicy(settings({ minParticipants: 3 }), new FakeHost());
    assert.equal(p.mayOpen(0, 2), false);
    assert.equal(p.mayOpen(0, 3), true);
    assert.equal(p.mayOpen(4, 3), true, 'every round opens on demand');
    assert.equal(new SyncRoundPolicy(settings({ minParticipants: 0 }), new FakeHost()).mayOpen(0, 0), false);
  });

  it('admits the open round with weight 1 and rejects a closed or gone one as STALE_ROUND', () => {
    const p = new SyncRoundPolicy(settings(), new FakeHost());
    assert.deepEqual(p.admit(version(3), 3), { staleness: 0, weight: 1 });
    const closed = { ...version(3), open: false };
    assert.throws(() => p.admit(closed, 4), code('STALE_ROUND'));
    const gone = p.rejectGone(1, 4);
    assert.ok(code('STALE_ROUND')(gone));
    assert.match(gone.message, /round 1 is closed; the current round is 4/);
  });

  it('publishes at the quorum', () => {
    const p = new SyncRoundPolicy(settings({ quorum: 2 }), new FakeHost());
    const facts = { newSincePublish: 1, online: online('a', 'b', 'c'), graceActive: false };
    assert.equal(p.publishReason({ ...facts, current: version(1, ['a']) }), null);
    assert.equal(p.publishReason({ ...facts, current: version(1, ['a', 'b']) }), 'quorum');
    assert.equal(p.publishReason({ ...facts, current: { ...version(1, ['a', 'b']), open: false } }), null);
  });

  it('quorum 0: publishes when every participant online contributed, not during a recovery grace', () => {
    const p = new SyncRoundPolicy(settings(), new FakeHost());
    const base = { newSincePublish: 2, graceActive: false };
    assert.equal(
      p.publishReason({ ...base, current: version(1, ['a', 'b']), online: online('a', 'b', 'c') }),
      null,
    );
    assert.equal(
      p.publishReason({ ...base, current: version(1, ['a', 'c']), online: online('a', 'b') }),
      null,
    );
    assert.equal(
      p.publishReason({ ...base, current: version(1, ['a', 'b']), online: online('a', 'b') }),
      'quorum',
    );
    assert.equal(
      p.publishReason({
        ...base,
        graceActive: true,
        current: version(1, ['a', 'b']),
        online: online('a', 'b'),
      }),
      null,
    );
    assert.equal(
      p.publishReason({ ...base, current: version(1), online: online() }),
      null,
      'nothing to aggregate',
    );
  });

  it('feeds the consensus from the current round only and carries its deadline', () => {
    const p = new SyncRoundPolicy(settings({ deadlineMs: 500 }), new FakeHost());
    assert.deepEqual(p.sourceVersions([version(1, ['a']), version(2, ['b'])], 2), [2]);
    assert.equal(p.taskDeadline(version(2, [], 10_000)), 10_500);
    assert.equal(new SyncRoundPolicy(settings(), new FakeHost()).taskDeadline(version(2, [], 10_000)), 0);
  });

  it('closes at the deadline; an empty round waits another period; a grace holds it', async () => {
    const host = new FakeHost();
    const p = new SyncRoundPolicy(settings({ deadlineMs: 5 }), host);
    host.head = version(1, [], host.time);
    p.armTimers();
    await host.nextQueued();
    assert.deepEqual(host.published, [], 'no contribution: nothing published');
    assert.ok(host.head.openedAt >= 1_000, 'the round was given another period');
    host.head.contributions.set('a', { participantId: 'a', version: 1, staleness: 0, weight: 1 });
    host.grace = true;
    await host.nextQueued();
    assert.deepEqual(host.published, [], 'held during the recovery grace');
    host.grace = false;
    p.armTimers();
    await host.nextQueued();
    assert.deepEqual(host.published, ['deadline']);
    p.close();
  });

  it('arms no deadline for a closed round, and close() stops it', async () => {
    const host = new FakeHost();
    const p = new SyncRoundPolicy(settings({ deadlineMs: 1 }), host);
    host.head = { ...version(1, ['a']), open: false };
    p.armTimers();
    host.head = version(2, ['a']);
    p.armTimers();
    p.close();
    host.enqueue(() => {});
    await host.nextQueued();
    assert.deepEqual(host.published, []);
  });
});
