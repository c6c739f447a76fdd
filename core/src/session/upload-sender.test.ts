import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '@mutua/proto';
import type { Body } from './connection-loop.ts';
import { MAX_UPLOAD_TRIES, UploadSender } from './upload-sender.ts';

const BODY: Body = { predictions: { round: 3, rows: 1, classes: 2 } };
const METRICS = { trainLoss: 1, samples: 1, trainMs: 1 };

/** A fake link layer: frames are numbered per link; `open` is the link sends go to. */
function harness(limit = Number.POSITIVE_INFINITY) {
  const links = [{ id: 1, seq: 0 }];
  let open: { id: number; seq: number } | null = links[0]!;
  const sent: Array<{ link: number; seq: number }> = [];
  const delays: Array<[number, number]> = [];
  const sender = new UploadSender(3, BODY, METRICS, {
    transmit: (body) => {
      assert.equal(body, BODY);
      if (!open) return null;
      if (100 > limit) return { tooLarge: 100 };
      open.seq++;
      sent.push({ link: open.id, seq: open.seq });
      return { link: open, seq: open.seq, bytes: 100 };
    },
    link: () => open,
    retryDelay: (tries, retryAfterMs) => {
      delays.push([tries, retryAfterMs]);
      return 0;
    },
  });
  return {
    sender,
    sent,
    delays,
    reconnect() {
      const link = { id: links.length + 1, seq: 0 };
      links.push(link);
      open = link;
    },
    disconnect() {
      open = null;
    },
  };
}

const rejection = (code: ConstructorParameters<typeof ProtocolError>[0], retryAfterMs = 0) =>
  new ProtocolError(code, 'no', { retryAfterMs });

/** Rejects with a retryable code and resolves when the resend is due. */
function rejectAndWait(sender: UploadSender, code: 'RATE_LIMITED' | 'INTERNAL', retryAfterMs = 0) {
  return new Promise<string>((resolve) => {
    const outcome = sender.rejected(rejection(code, retryAfterMs), () => resolve(outcome));
    if (outcome !== 'retrying') resolve(outcome);
  });
}

describe('UploadSender', () => {
  test('sends once per link; only a reply to its seq on that link answers it', () => {
    const h = harness();
    assert.equal(h.sender.send(), 'sent');
    assert.equal(h.sender.frameBytes, 100);
    assert.equal(h.sender.tries, 1);
    assert.equal(h.sender.send(), 'not-now', 'already sent on this link');
    assert.ok(h.sender.sentOnOpenLink());
    assert.ok(h.sender.isAnsweredBy(1));
    assert.ok(!h.sender.isAnsweredBy(2));
    assert.ok(!h.sender.isAnsweredBy(0));
    // The link breaks: no answer can come; the next link gets it again, with that link's seq.
    h.disconnect();
    assert.ok(!h.sender.sentOnOpenLink());
    assert.equal(h.sender.send(), 'not-now');
    h.reconnect();
    assert.ok(!h.sender.isAnsweredBy(1), 'seq 1 of the new link is some other frame');
    assert.equal(h.sender.send(), 'sent');
    assert.deepEqual(h.sent, [
      { link: 1, seq: 1 },
      { link: 2, seq: 1 },
    ]);
    assert.ok(h.sender.isAnsweredBy(1));
  });

  test('RATE_LIMITED and INTERNAL resend after the delay, up to MAX_UPLOAD_TRIES sends', async () => {
    const h = harness();
    h.sender.send();
    for (let tries = 1; tries < MAX_UPLOAD_TRIES; tries++) {
      assert.equal(await rejectAndWait(h.sender, tries % 2 ? 'RATE_LIMITED' : 'INTERNAL', 7), 'retrying');
      assert.ok(!h.sender.isAnsweredBy(tries), 'a rejected send is no longer answered');
      assert.equal(h.sender.send(), 'sent');
    }
    assert.equal(h.sender.tries, MAX_UPLOAD_TRIES);
    assert.deepEqual(
      h.delays,
      Array.from({ length: MAX_UPLOAD_TRIES - 1 }, (_, i) => [i + 1, 7]),
    );
    assert.equal(
      h.sender.rejected(rejection('RATE_LIMITED'), () => assert.fail('no resend')),
      'dropped',
    );
  });

  test('a pending resend is not overtaken by a new link, and cancel() stops it', async () => {
    const h = harness();
    h.sender.send();
    let resent = false;
    assert.equal(
      h.sender.rejected(rejection('RATE_LIMITED'), () => {
        resent = true;
      }),
      'retrying',
    );
    h.reconnect();
    assert.equal(h.sender.send(), 'not-now', 'the resend is scheduled');
    h.sender.cancel();
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(resent, false);
    assert.equal(h.sender.send(), 'sent');
  });

  test('UNKNOWN_ROUND asks for the task; STALE_ROUND, TOO_STALE and payload errors drop it', () => {
    const h = harness();
    h.sender.send();
    const never = () => assert.fail('no resend');
    assert.equal(h.sender.rejected(rejection('UNKNOWN_ROUND'), never), 'request-task');
    for (const code of ['STALE_ROUND', 'TOO_STALE', 'BAD_SHAPE', 'BAD_PAYLOAD'] as const) {
      assert.equal(h.sender.rejected(rejection(code), never), 'dropped', code);
    }
  });

  test('a frame above the coordinator limit is reported, not sent', () => {
    const h = harness(50);
    assert.deepEqual(h.sender.send(), { tooLarge: 100 });
    assert.equal(h.sender.tries, 0);
    assert.deepEqual(h.sent, []);
  });
});
