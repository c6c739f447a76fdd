import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FederationRecord, NewParticipant, ParticipantRecord } from '../db/store.ts';
import { AdmissionBatcher } from './admission-batcher.ts';

/** An AdmissionDb that counts its calls: what batching is for. */
function fakeDb(limit: { registered: number }) {
  const calls = { resumeLookups: 0, tokenLookups: 0, federations: 0, touches: 0, creates: 0 };
  const participants = new Map<string, ParticipantRecord>();
  for (let i = 0; i < 100; i++)
    participants.set(`h${i}`, {
      id: `p${i}`,
      federationId: 'f',
      joinTokenId: 't',
      name: `n${i}`,
      revoked: i === 7,
    });
  const touched: string[] = [];
  const db = {
    async findParticipantsByResumeHashes(hashes: readonly string[]) {
      calls.resumeLookups++;
      return new Map(
        hashes.flatMap((h) => (participants.has(h) ? [[h, participants.get(h)!] as const] : [])),
      );
    },
    async findJoinTokens(hashes: readonly string[]) {
      calls.tokenLookups++;
      return new Map(
        hashes.map((h) => [h, { id: 't', federationId: 'f', revoked: false, maxUses: null }] as const),
      );
    },
    async getFederation(id: string) {
      calls.federations++;
      return { id } as FederationRecord;
    },
    async touchParticipants(ids: readonly string[]) {
      calls.touches++;
      touched.push(...ids);
    },
    async createParticipants(joins: readonly NewParticipant[], max: number) {
      calls.creates++;
      return joins.map((j, k) =>
        limit.registered < max
          ? {
              id: `new${limit.registered++}`,
              federationId: j.federationId,
              joinTokenId: 't',
              name: `${k}`,
              revoked: false,
            }
          : ('full' as const),
      );
    },
  };
  return { db, calls, touched };
}

describe('AdmissionBatcher', () => {
  it('answers 100 simultaneous resumes with one lookup, one federation read and one touch', async () => {
    const { db, calls, touched } = fakeDb({ registered: 0 });
    const b = new AdmissionBatcher(db, 1000, 1);
    const out = await Promise.all([
      ...Array.from({ length: 100 }, (_, i) => b.resume(`h${i}`)),
      b.resume('nope'),
    ]);
    assert.equal(out[3]!.participant.id, 'p3');
    assert.equal(out[3]!.federation!.id, 'f');
    assert.equal(out[100], null, 'an unknown token is null');
    assert.deepEqual(calls, { resumeLookups: 1, tokenLookups: 0, federations: 1, touches: 1, creates: 0 });
    assert.equal(touched.length, 99, 'the revoked participant is not marked seen');
    assert.ok(!touched.includes('p7'));
  });

  it('registers simultaneous joins in one call, in order, the limit applied to the batch', async () => {
    const { db, calls } = fakeDb({ registered: 0 });
    const b = new AdmissionBatcher(db, 1000, 1);
    const join = (i: number) =>
      b.createParticipant(
        {
          federationId: 'f',
          joinTokenId: 't',
          name: `j${i}`,
          kind: 'node',
          modelArch: '',
          resumeTokenHash: `r${i}`,
        },
        5,
        null,
      );
    const out = await Promise.all(Array.from({ length: 8 }, (_, i) => join(i)));
    assert.equal(calls.creates, 1);
    assert.deepEqual(
      out.map((r) => (typeof r === 'string' ? r : r.id)),
      ['new0', 'new1', 'new2', 'new3', 'new4', 'full', 'full', 'full'],
    );
  });

  it('a lone Hello is answered on its own', async () => {
    const { db, calls } = fakeDb({ registered: 0 });
    const b = new AdmissionBatcher(db);
    assert.equal((await b.resume('h1'))!.participant.id, 'p1');
    assert.equal((await b.joinToken('x'))!.token.id, 't');
    assert.equal(calls.resumeLookups + calls.tokenLookups, 2);
  });
});
