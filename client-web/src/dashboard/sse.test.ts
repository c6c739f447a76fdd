/** The dashboard's reading of the coordinator's event stream, under node. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventConcerns, SseParser } from './sse.ts';

describe('dashboard: server-sent events', () => {
  test('messages come out whole however the chunks split them; comments are skipped', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('retry: 5000\nevent: ready\nda'), []);
    assert.deepEqual(p.push('ta: {}\n\n: keepalive\n\nevent: round-closed\r\ndata: {"round":3}\r\n'), [
      { event: 'ready', data: '{}' },
    ]);
    assert.deepEqual(p.push('\r\ndata: a\ndata: b\n\n'), [
      { event: 'round-closed', data: '{"round":3}' },
      { event: 'message', data: 'a\nb' },
    ]);
  });

  test('list changes always refresh; the rest only for the selected federation', () => {
    const m = (event: string, data: unknown) => ({ event, data: JSON.stringify(data) });
    assert.equal(eventConcerns(m('federation-created', { federationId: 'x' }), 'a'), true);
    assert.equal(eventConcerns(m('round-closed', { federationId: 'a' }), 'a'), true);
    assert.equal(eventConcerns(m('round-closed', { federationId: 'b' }), 'a'), false);
    assert.equal(eventConcerns(m('participant-joined', { federationId: 'a' }), ''), false);
    assert.equal(eventConcerns(m('ready', {}), 'a'), false);
    assert.equal(eventConcerns({ event: 'round-closed', data: 'not json' }, 'a'), false);
  });
});
