// The crash-recovery scenario, run by crash-recovery.test.ts (SQLite) and
// crash-recovery-postgres.test.ts: the coordinator runs as a child process (the bin), is
// killed with SIGKILL in the middle of a round, and is restarted on the same database.
// One coordinator hosts a synchronous and an asynchronous federation so both modes cross
// the same crash, plus an async one with an acknowledged late contribution pending. After
// the restart: every acknowledged submission is still there (counted, acknowledged again
// as a duplicate, and inside the next consensus), numbering continues, and participants
// resume with their resume tokens (same identities) and finish the interrupted round and
// the next.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { type ChildServer, spawnServer } from './child-server.ts';
import { ADMIN_TOKEN } from './helper.ts';
import { TestClient } from './test-client.ts';

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const BATCH = 8;
/** Generous: two coordinators and six participants share a busy 2-core machine. */
export const WAIT_MS = 20_000;

interface RoundView {
  number: number;
  status: string;
  submissions: number;
}

export async function api<T>(server: ChildServer, method: string, path: string, body?: unknown): Promise<T> {
  const res = await server.fetch(path, {
    method,
    headers: body === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function createFederation(server: ChildServer, name: string, settings: Record<string, unknown>) {
  const f = await api<{ id: string }>(server, 'POST', '/v1/federations', {
    name,
    publicSet: { dataset: 'mnist', split: 'test', offset: 0, count: 32 },
    settings: { batchSize: BATCH, ...settings },
  });
  const t = await api<{ token: string }>(server, 'POST', `/v1/federations/${f.id}/tokens`, { label: name });
  return { id: f.id, token: t.token };
}

export const rounds = (server: ChildServer, id: string) =>
  api<RoundView[]>(server, 'GET', `/v1/federations/${id}/rounds`).then((rs) =>
    rs.map((r) => ({ number: r.number, status: r.status, submissions: r.submissions })),
  );

export interface Member {
  name: string;
  label: number;
  client: TestClient;
  participantId: string;
  resumeToken: string;
  /** The round of the last task taken from the coordinator. */
  taskRound: number;
}

export async function takeTask(m: Member, round: number) {
  const task = (
    await m.client.task(round, WAIT_MS).catch((e: Error) => {
      throw new Error(`${m.name} waiting for its round-${round} task: ${e.message}`);
    })
  ).envelope.task!;
  assert.equal(Number(task.round), round, `${m.name} is asked for round ${round}`);
  m.taskRound = round;
  return task;
}

export async function joinAll(
  server: ChildServer,
  token: string,
  t: TestContext,
  labels = [1, 2, 3],
): Promise<Member[]> {
  return Promise.all(
    labels.map(async (label) => {
      const client = await TestClient.connect(server.wsUrl);
      t.after(() => client.close());
      const w = await client.hello({ joinToken: token, name: `p${label}` });
      assert.equal(w.body, 'welcome');
      const welcome = w.envelope.welcome!;
      return {
        name: `p${label}`,
        label,
        client,
        participantId: welcome.participantId!,
        resumeToken: welcome.resumeToken!,
        taskRound: 0,
      };
    }),
  );
}

/** Reconnects every member with its resume token; asserts the same identity comes back. */
export async function resumeAll(server: ChildServer, members: Member[], round: number, t: TestContext) {
  for (const m of members) {
    const client = await TestClient.connect(server.wsUrl);
    t.after(() => client.close());
    const w = await client.hello({ resumeToken: m.resumeToken, name: m.name });
    assert.equal(w.body, 'welcome', `${m.name} resumes`);
    const welcome = w.envelope.welcome!;
    assert.equal(welcome.resumed, true);
    assert.equal(welcome.participantId, m.participantId, `${m.name} keeps its participant id`);
    assert.equal(Number(welcome.currentRound), round, 'the welcome names the interrupted round');
    m.client = client;
    m.taskRound = 0;
  }
}

/** Each member takes its task for `round` (if not yet taken), uploads, and is acknowledged (a fresh submission). */
async function submit(members: Member[], round: number): Promise<void> {
  for (const m of members) {
    if (m.taskRound !== round) await takeTask(m, round);
    const ack = await m.client.reply(m.client.upload(round, BATCH, { label: m.label }), WAIT_MS);
    assert.equal(
      ack.body,
      'ack',
      `${m.name} round ${round}: ${ack.body} ${ack.envelope.error?.message ?? ''}`,
    );
    assert.equal(ack.envelope.ack!.duplicate, false);
  }
}

/** A sync (quorum 3) and an async (K = 3) federation, each: round 1 done, round 2 two-thirds done. */
async function beforeCrash(server: ChildServer, t: TestContext) {
  const sync = await createFederation(server, 'sync', { mode: 'sync', sync: { quorum: 3 } });
  const async_ = await createFederation(server, 'async', { mode: 'async', async: { bufferK: 3 } });
  const feds = [
    { ...sync, mode: 'sync', members: await joinAll(server, sync.token, t) },
    { ...async_, mode: 'async', members: await joinAll(server, async_.token, t) },
  ];
  for (const f of feds) {
    await submit(f.members, 1);
    // Round 2: the first two are acknowledged, the third has its task but has not answered.
    await submit(f.members.slice(0, 2), 2);
    await takeTask(f.members[2]!, 2);
  }
  assert.deepEqual(await rounds(server, sync.id), [
    { number: 1, status: 'closed', submissions: 3 },
    { number: 2, status: 'open', submissions: 2 },
  ]);
  return feds;
}

/** Uploads for `round` (task already taken or not needed) and returns the Ack. */
export async function uploadAck(m: Member, round: number) {
  const r = await m.client.reply(m.client.upload(round, BATCH, { label: m.label }), WAIT_MS);
  assert.equal(r.body, 'ack', `${m.name} round ${round}: ${r.body} ${r.envelope.error?.message ?? ''}`);
  return r.envelope.ack!;
}

/**
 * Async with K = 2 and a late contribution: versions 1 and 2 are published; p2's upload
 * for version 2 arrives when version 3 is current (staleness 1), is acknowledged, and is
 * the only contribution towards consensus 3 when the coordinator dies.
 */
async function beforeCrashLate(server: ChildServer, t: TestContext) {
  const f = await createFederation(server, 'async late', { mode: 'async', async: { bufferK: 2 } });
  const members = await joinAll(server, f.token, t);
  const [p1, p2, p3] = members as [Member, Member, Member];
  for (const m of members) await takeTask(m, 1);
  await uploadAck(p1, 1);
  await uploadAck(p2, 1); // K reached: consensus 1, version 2 opens
  await takeTask(p1, 2);
  await takeTask(p2, 2);
  const late1 = await uploadAck(p3, 1); // p3 is slow: still on version 1
  assert.deepEqual([late1.duplicate, late1.staleness], [false, 1]);
  await uploadAck(p1, 2); // with p3's late one, K reached: consensus 2, version 3 opens
  await takeTask(p1, 3);
  const late2 = await uploadAck(p2, 2);
  assert.deepEqual([late2.duplicate, late2.staleness], [false, 1]);
  assert.ok((late2.weight ?? 1) < 1, 'a stale contribution weighs less');
  assert.deepEqual(await rounds(server, f.id), [
    { number: 1, status: 'closed', submissions: 3 },
    { number: 2, status: 'closed', submissions: 2 },
    { number: 3, status: 'open', submissions: 0 },
  ]);
  return { ...f, members };
}

async function afterCrashLate(
  server: ChildServer,
  f: Awaited<ReturnType<typeof beforeCrashLate>>,
  t: TestContext,
) {
  const what = 'async federation with a late contribution';
  assert.deepEqual(
    await rounds(server, f.id),
    [
      { number: 1, status: 'closed', submissions: 3 },
      { number: 2, status: 'closed', submissions: 2 },
      { number: 3, status: 'open', submissions: 0 },
    ],
    what,
  );
  await resumeAll(server, f.members, 3, t);
  const [p1, p2, p3] = f.members as [Member, Member, Member];
  for (const m of f.members) await takeTask(m, 3);
  const dup = await uploadAck(p2, 2);
  assert.equal(dup.duplicate, true, `${what}: p2's late upload was kept`);
  // p2's acknowledged late contribution still counts towards K = 2: one more publishes consensus 3.
  await uploadAck(p1, 3);
  // p3 still works on version 3: it is sent version 4 once it answers (staleness 1 now).
  assert.equal((await uploadAck(p3, 3)).staleness, 1);
  const t4 = await takeTask(p3, 4);
  assert.equal(t4.targets?.contributors, 2, `${what}: p3's targets come from p1 and p2 on version 2`);
  assert.equal(
    t4.targets?.indices?.length,
    BATCH,
    `${what}: targets are version 2's batch (most contributors)`,
  );
  await takeTask(p2, 4);
  assert.deepEqual(
    await rounds(server, f.id),
    [
      { number: 1, status: 'closed', submissions: 3 },
      { number: 2, status: 'closed', submissions: 2 },
      { number: 3, status: 'closed', submissions: 2 }, // p1, then p3's late answer
      { number: 4, status: 'open', submissions: 0 },
    ],
    what,
  );
  const view = await api<{ consensusVersion: number }>(server, 'GET', `/v1/federations/${f.id}`);
  assert.equal(view.consensusVersion, 3, what);
}

/** Runs the whole scenario with the coordinator started as `mutua-server ...args` with `env`. */
export async function crashAndRecover(t: TestContext, env: Record<string, string>, args: string[]) {
  const first = await spawnServer(t, { args: [...args, '--port', '0'], env });
  const feds = await beforeCrash(first, t);
  const late = await beforeCrashLate(first, t);

  const killed = await first.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  for (const f of [...feds, late]) for (const m of f.members) await m.client.waitClose();

  // Same port, as participants' reconnect loops expect.
  const second = await spawnServer(t, { args: [...args, '--port', String(first.port)], env });

  for (const f of feds) {
    const what = `${f.mode} federation`;
    // Every acknowledged submission survived; the interrupted round is still the open one.
    assert.deepEqual(
      await rounds(second, f.id),
      [
        { number: 1, status: 'closed', submissions: 3 },
        { number: 2, status: 'open', submissions: 2 },
      ],
      what,
    );
    const view = await api<{ currentRound: number; consensusVersion: number }>(
      second,
      'GET',
      `/v1/federations/${f.id}`,
    );
    assert.deepEqual([view.currentRound, view.consensusVersion], [2, 1], what);

    await resumeAll(second, f.members, 2, t);
    const [p1, p2, p3] = f.members as [Member, Member, Member];
    // The one that had not answered gets its round-2 task again; the others are done with round 2.
    await takeTask(p3, 2);
    // Resending an acknowledged submission is acknowledged again, as a duplicate.
    const dup = await p1.client.reply(p1.client.upload(2, BATCH, { label: p1.label }), WAIT_MS);
    assert.equal(dup.body, 'ack', `${what}: ${dup.envelope.error?.message ?? ''}`);
    assert.equal(dup.envelope.ack!.duplicate, true, `${what}: p1's round-2 upload was kept`);
    // (The runtime answers in order: a task offered on resume would have arrived before this Ack.)
    assert.ok(!p1.client.received.some((r) => r.body === 'task'), `${what}: p1 is done with round 2`);

    const ack = await p3.client.reply(p3.client.upload(2, BATCH, { label: p3.label }), WAIT_MS);
    assert.equal(ack.body, 'ack', `${what}: ${ack.envelope.error?.message ?? ''}`);
    assert.equal(ack.envelope.ack!.duplicate, false);

    // Round 2 completes (quorum / K reached with the two recovered submissions) and round 3 opens.
    // p3's leave-one-out targets come from p1 and p2's pre-crash predictions only.
    const t3 = await takeTask(p3, 3);
    assert.equal(t3.targets?.contributors, 2, `${what}: targets from the two recovered submissions`);
    const row0 = t3.targets!.payload!.subarray(0, 10);
    assert.ok(row0[p1.label]! > 80 && row0[p2.label]! > 80, `${what}: p1 and p2's classes carry the mass`);
    assert.ok(row0[p3.label]! < 20, `${what}: p3's own prediction is left out`);

    await submit(f.members, 3);
    for (const m of f.members) await takeTask(m, 4);
    assert.deepEqual(
      await rounds(second, f.id),
      [
        { number: 1, status: 'closed', submissions: 3 },
        { number: 2, status: 'closed', submissions: 3 },
        { number: 3, status: 'closed', submissions: 3 },
        { number: 4, status: 'open', submissions: 0 },
      ],
      what,
    );
    const participants = await api<{ id: string }[]>(second, 'GET', `/v1/federations/${f.id}/participants`);
    assert.deepEqual(
      participants.map((p) => p.id).sort(),
      f.members.map((m) => m.participantId).sort(),
      `${what}: nobody joined twice`,
    );
  }
  await afterCrashLate(second, late, t);
  const stopped = await second.stop('SIGTERM');
  assert.equal(stopped.code, 0, second.log);
}
