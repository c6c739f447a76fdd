// The coordinator killed inside each crash window, run by crash-recovery.test.ts (SQLite)
// and crash-recovery-postgres.test.ts. One coordinator process hosts a federation per
// window; the test-only MUTUA_TEST_HOLD_AT (server/src/engine/test-hold.ts) stops each
// of them exactly inside its window, and once all are there the process gets SIGKILL —
// so every window is hit on every run, not by timing luck. Two more federations cross
// the same crash: an async participant that re-sends its upload and asks for work at
// once, and a sync round whose participants come back one by one (the recovery grace).
// After the restart, on the same database, each federation must finish the interrupted
// round and the next one.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { HoldPoint } from '../src/engine/test-hold.ts';
import { type ChildServer, spawnServer } from './child-server.ts';
import {
  api,
  BATCH,
  createFederation,
  joinAll,
  type Member,
  resumeAll,
  rounds,
  takeTask,
  uploadAck,
  WAIT_MS,
} from './crash-scenario.ts';

interface Window {
  name: string;
  point: HoldPoint;
  mode: 'sync' | 'async';
}

/** Each federation is named after its window; all have two participants. */
const WINDOWS: Window[] = [
  { name: 'before-stored', point: 'before-submission-saved', mode: 'sync' },
  { name: 'before-ack', point: 'after-submission-saved', mode: 'sync' },
  { name: 'before-consensus', point: 'before-consensus-saved', mode: 'sync' },
  { name: 'before-consensus-async', point: 'before-consensus-saved', mode: 'async' },
  { name: 'after-consensus', point: 'after-consensus-saved', mode: 'sync' },
  { name: 'before-tasks', point: 'before-tasks-sent', mode: 'sync' },
];

const settingsFor = (mode: 'sync' | 'async') =>
  mode === 'sync' ? { mode, sync: { quorum: 2 } } : { mode, async: { bufferK: 2 } };

interface Fed {
  name: string;
  id: string;
  members: Member[];
}

async function federation(
  server: ChildServer,
  name: string,
  settings: Record<string, unknown>,
  labels: number[],
  t: TestContext,
): Promise<Fed> {
  const f = await createFederation(server, name, settings);
  return { name, id: f.id, members: await joinAll(server, f.token, t, labels) };
}

/** Drives a window's federation into its window; resolves once the coordinator holds there. */
async function enterWindow(server: ChildServer, w: Window, f: Fed): Promise<void> {
  const [p1, p2] = f.members as [Member, Member];
  await takeTask(p1, 1);
  await takeTask(p2, 1);
  if (w.point === 'before-submission-saved' || w.point === 'after-submission-saved') {
    p1.client.upload(1, BATCH, { label: p1.label }); // never acknowledged
  } else {
    await uploadAck(p1, 1);
    await uploadAck(p2, 1); // the round is complete: the publish holds at the point
  }
  await server.waitForOutput(new RegExp(`mutua-test-hold ${w.name} ${w.point}`), WAIT_MS);
}

/** Both upload for round `round` (tasks taken) and receive the task of the next one. */
async function finishRound(f: Fed, round: number): Promise<void> {
  for (const m of f.members) assert.equal((await uploadAck(m, round)).duplicate, false, f.name);
  for (const m of f.members) await takeTask(m, round + 1);
}

async function afterWindow(server: ChildServer, w: Window, f: Fed, t: TestContext): Promise<void> {
  const what = `killed ${w.name} (${w.point}, ${w.mode})`;
  const [p1, p2] = f.members as [Member, Member];
  if (w.point === 'before-submission-saved') {
    // p1's upload never reached the database: the round is as it was, p1 uploads again.
    assert.deepEqual(await rounds(server, f.id), [{ number: 1, status: 'open', submissions: 0 }], what);
    await resumeAll(server, f.members, 1, t);
    for (const m of f.members) await takeTask(m, 1);
    await finishRound(f, 1);
  } else if (w.point === 'after-submission-saved') {
    // Stored but never acknowledged: the re-sent upload is acknowledged as a duplicate.
    assert.deepEqual(await rounds(server, f.id), [{ number: 1, status: 'open', submissions: 1 }], what);
    await resumeAll(server, f.members, 1, t);
    await takeTask(p2, 1);
    assert.equal((await uploadAck(p1, 1)).duplicate, true, `${what}: p1's upload was kept`);
    assert.equal((await uploadAck(p2, 1)).duplicate, false, what);
    for (const m of f.members) await takeTask(m, 2);
  } else {
    // Round 1 was complete: the restarted coordinator closes it (or finishes closing it)
    // by itself, and both — who had already contributed — are offered round 2.
    assert.deepEqual(
      await rounds(server, f.id),
      [
        { number: 1, status: 'closed', submissions: 2 },
        { number: 2, status: 'open', submissions: 0 },
      ],
      what,
    );
    const view = await api<{ consensusVersion: number }>(server, 'GET', `/v1/federations/${f.id}`);
    assert.equal(view.consensusVersion, 1, what);
    await resumeAll(server, f.members, 2, t);
    for (const m of f.members) {
      const task = await takeTask(m, 2);
      assert.equal(task.targets?.contributors, 1, `${what}: ${m.name}'s targets are the other's predictions`);
    }
  }
  await finishRound(f, 2);
}

/**
 * Async, K = 2 = participants: p1 re-sends the upload it made while the coordinator was
 * down and asks for work right after; it must still be sent version 2.
 */
async function afterResend(server: ChildServer, f: Fed, t: TestContext): Promise<void> {
  const what = 'async re-send then TaskRequest';
  const [p1, p2] = f.members as [Member, Member];
  assert.deepEqual(await rounds(server, f.id), [{ number: 1, status: 'open', submissions: 0 }], what);
  // Both back first: p2, online and not done, keeps p1 alone from publishing (all-waiting).
  await resumeAll(server, f.members, 1, t);
  for (const m of f.members) await takeTask(m, 1);
  const seq = p1.client.upload(1, BATCH, { label: p1.label });
  p1.client.send({ taskRequest: { lastRound: 1 } });
  const ack = await p1.client.reply(seq, WAIT_MS);
  assert.equal(ack.body, 'ack', `${what}: ${ack.envelope.error?.message ?? ''}`);
  await uploadAck(p2, 1); // K reached: version 2
  await takeTask(p1, 2);
  await takeTask(p2, 2);
  await finishRound(f, 2);
}

/**
 * Sync, quorum 0 (every connected participant), 3 participants: round 2 had p1's upload
 * when the coordinator died. p1 and p2 come back first and p2 submits: the round must
 * wait for p3 (recovery grace), whose upload is then accepted, not STALE_ROUND.
 */
async function afterGrace(server: ChildServer, f: Fed, t: TestContext): Promise<void> {
  const what = 'sync grace';
  const [p1, p2, p3] = f.members as [Member, Member, Member];
  await resumeAll(server, [p1, p2], 2, t);
  await takeTask(p2, 2);
  await uploadAck(p2, 2);
  assert.deepEqual(
    await rounds(server, f.id),
    [
      { number: 1, status: 'closed', submissions: 3 },
      { number: 2, status: 'open', submissions: 2 },
    ],
    `${what}: round 2 waits for p3`,
  );
  await resumeAll(server, [p3], 2, t);
  await takeTask(p3, 2);
  assert.equal((await uploadAck(p3, 2)).duplicate, false, `${what}: p3's late upload is accepted`);
  for (const m of f.members) await takeTask(m, 3);
  assert.deepEqual(
    (await rounds(server, f.id)).map((r) => r.submissions),
    [3, 3, 0],
    `${what}: nobody's round-2 work was lost`,
  );
}

/**
 * Sync, quorum 0, round 1: p1 submitted, p2 had been sent its task (and nothing else
 * tells it is in the round). p1 back alone must not close round 1.
 */
async function afterGraceRound1(server: ChildServer, f: Fed, t: TestContext): Promise<void> {
  const what = 'sync grace in round 1';
  const [p1, p2] = f.members as [Member, Member];
  await resumeAll(server, [p1], 1, t);
  // p1's resume is admitted (Welcome) before this read, and its join is checked at once.
  assert.deepEqual(
    await rounds(server, f.id),
    [{ number: 1, status: 'open', submissions: 1 }],
    `${what}: round 1 waits for p2`,
  );
  await resumeAll(server, [p2], 1, t);
  await takeTask(p2, 1);
  assert.equal((await uploadAck(p2, 1)).duplicate, false, `${what}: p2's upload is accepted`);
  for (const m of f.members) await takeTask(m, 2);
}

/** Runs every window with the coordinator started as `mutua-server ...args` with `env`. */
export async function crashInEveryWindow(t: TestContext, env: Record<string, string>, args: string[]) {
  const hold = WINDOWS.map((w) => `${w.name}=${w.point}`).join(',');
  const first = await spawnServer(t, {
    args: [...args, '--port', '0'],
    env: { ...env, MUTUA_TEST_HOLD_AT: hold },
  });
  const windows: Fed[] = [];
  for (const w of WINDOWS) windows.push(await federation(first, w.name, settingsFor(w.mode), [1, 2], t));
  const resend = await federation(first, 'resend', { mode: 'async', async: { bufferK: 2 } }, [1, 2], t);
  const grace = await federation(
    first,
    'grace',
    { mode: 'sync', sync: { quorum: 0 }, recoveryGraceMs: 120_000 },
    [1, 2, 3],
    t,
  );
  const grace1 = await federation(
    first,
    'grace-round-1',
    { mode: 'sync', sync: { quorum: 0 }, recoveryGraceMs: 120_000 },
    [1, 2],
    t,
  );
  for (const m of grace1.members) await takeTask(m, 1);
  // Reading the participants writes the traffic counters (and last seen) at once.
  await api(first, 'GET', `/v1/federations/${grace1.id}/participants`);
  await uploadAck(grace1.members[0]!, 1);
  await Promise.all(WINDOWS.map((w, i) => enterWindow(first, w, windows[i]!)));
  for (const m of resend.members) await takeTask(m, 1);
  for (const m of grace.members) await takeTask(m, 1);
  for (const m of grace.members) await uploadAck(m, 1);
  for (const m of grace.members) await takeTask(m, 2);
  await uploadAck(grace.members[0]!, 2);

  const killed = await first.stop('SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  for (const f of [...windows, resend, grace, grace1]) for (const m of f.members) await m.client.waitClose();

  const second = await spawnServer(t, { args: [...args, '--port', String(first.port)], env });
  await Promise.all([
    ...WINDOWS.map((w, i) => afterWindow(second, w, windows[i]!, t)),
    afterResend(second, resend, t),
    afterGrace(second, grace, t),
    afterGraceRound1(second, grace1, t),
  ]);
  const stopped = await second.stop('SIGTERM');
  assert.equal(stopped.code, 0, second.log);
}
