/**
 * `npm run demo`: a whole federation on this machine in one command. Starts the coordinator
 * (embedded SQLite), creates a federation (sync by default) whose public set is a slice of a
 * built-in data set, starts local participants (mutua-client, each on its own shard, small
 * so rounds close every few seconds on two cores), prints where to look, and shows each
 * round as it closes until Ctrl-C, which stops every child before exiting.
 *
 * Children run in their own process groups, so a terminal's Ctrl-C reaches only this
 * process, which then stops them in order: participants leave first, then the coordinator
 * finishes its writes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AdminClient, type Round } from '../../server/src/admin-cli/client.ts';
import { accuracyByRound } from '../../server/src/admin-cli/rounds.ts';
import { cleanEnv, REPO_ROOT, SERVER_BIN } from '../simulate/coordinator.ts';
import { type Child, ProcessGroup, waitForLine } from '../simulate/processes.ts';
import { type DemoOptions, DemoUsageError, HELP, parseDemoOptions } from './options.ts';

const CLIENT_BIN = join(REPO_ROOT, 'client-node/bin/mutua-client.js');
/** Samples of the built-in TRAIN set the participants split: ~1,300 private samples each for 3. */
const SOURCE_LIMIT = 6000;
const PUBLIC_SIZE = 1000;
const POLL_MS = 1000;

const say = (line = '') => process.stdout.write(`${line}\n`);

/** What is running, so that main() can stop it in order whenever Ctrl-C comes. */
interface Running {
  group: ProcessGroup;
  coordinator?: Child;
  participants: Child[];
}

async function run(o: DemoOptions, dataDir: string, stopping: AbortSignal, running: Running): Promise<void> {
  const { group } = running;
  const started = Date.now();
  const workDir = join(dataDir, 'demo');
  mkdirSync(workDir, { recursive: true });
  const adminToken = randomBytes(18).toString('base64url');

  say(`Starting the coordinator (data: ${dataDir})…`);
  const coordinator = group.spawn(
    'coordinator',
    process.execPath,
    [
      SERVER_BIN,
      '--port',
      String(o.port),
      '--host',
      '127.0.0.1',
      '--data-dir',
      dataDir,
      '--admin-token',
      adminToken,
    ],
    {
      cwd: REPO_ROOT,
      env: cleanEnv({ LOG_LEVEL: 'warn' }),
      logFile: join(workDir, 'coordinator.log'),
      detached: true,
    },
  );
  running.coordinator = coordinator;
  const url = (await waitForLine(coordinator, /mutua-server listening on (http:\/\/\S+)/, 90_000))[1]!;
  const admin = new AdminClient(url, adminToken);

  const federation = await admin.createFederation({
    name: 'demo',
    publicSet: { dataset: o.dataset, split: 'test', offset: 0, count: PUBLIC_SIZE },
    settings: { mode: o.mode, batchSize: 256 },
  });
  const tokens = [];
  for (let k = 0; k < o.participants; k++)
    tokens.push(await admin.createToken(federation.id, { label: `demo-${k}` }));
  const browser = await admin.createToken(federation.id, { label: 'browser tab' });

  const participants = running.participants;
  for (let k = 0; k < o.participants; k++) {
    participants.push(
      group.spawn(
        `participant demo-${k}`,
        process.execPath,
        [
          CLIENT_BIN,
          '--coordinator',
          url,
          '--token',
          tokens[k]!.token!,
          '--name',
          `demo-${k}`,
          '--data',
          `builtin:${o.dataset}`,
          '--shard',
          `${k}/${o.participants}`,
          '--limit',
          String(SOURCE_LIMIT),
          '--eval-test',
          '--model',
          'mlp',
          '--checkpoint-dir',
          join(workDir, `participant-${k}`),
          '--cache-dir',
          join(workDir, 'cache'),
          '--quiet',
        ],
        { cwd: REPO_ROOT, env: cleanEnv(), logFile: join(workDir, `participant-${k}.log`), detached: true },
      ),
    );
  }

  say();
  say('Mutua demo');
  say(`  coordinator   ${url}`);
  say(`  dashboard     ${url}/#federation=${federation.id}`);
  say(`  admin token   ${adminToken}   (the dashboard asks for it)`);
  say(`  join link     ${url}${browser.joinUrl}   (open it in a browser tab to take part too)`);
  say(
    `  CLI           MUTUA_COORDINATOR=${url} MUTUA_ADMIN_TOKEN=${adminToken} npx mutua rounds ${federation.id} --follow`,
  );
  say(
    `  participants  ${o.participants} × mutua-client (mlp, a shard of builtin:${o.dataset} each); logs in ${workDir}`,
  );
  say(
    `${o.mode === 'sync' ? 'Rounds' : 'Consensus versions'} appear below as they close; Ctrl-C stops everything.`,
  );
  say();

  for (const p of participants) {
    void p.exited.then((e) => {
      if (stopping.aborted) return;
      const last = p.tail().trim().split('\n').at(-1) ?? '';
      say(`${p.name} exited (${e.code ?? e.signal})${last ? `: ${last}` : ''}`);
    });
  }
  const coordinatorDied = coordinator.exited.then((e) => {
    if (!stopping.aborted)
      throw new Error(`the coordinator exited (${e.code ?? e.signal}): ${coordinator.tail().trim()}`);
  });
  await Promise.race([follow(admin, federation.id, o.mode, started, stopping), coordinatorDied]);
}

/** One line per closed round (async: consensus version), with the accuracy the participants reported for it. */
async function follow(
  admin: AdminClient,
  id: string,
  mode: string,
  started: number,
  stopping: AbortSignal,
): Promise<void> {
  const what = mode === 'sync' ? 'round' : 'version';
  let cursor = 0;
  while (!stopping.aborted) {
    try {
      await sleep(POLL_MS, undefined, { signal: stopping });
    } catch {
      return;
    }
    const [f, rounds] = await Promise.all([admin.getFederation(id), admin.rounds(id, cursor, 1000)]);
    const closed = rounds.filter((r: Round) => r.status !== 'open');
    const accuracy = closed.length ? accuracyByRound(await admin.metrics(id, closed[0]!.number)) : new Map();
    for (const r of closed) {
      const acc = accuracy.get(r.number);
      const seconds = String(Math.round((Date.now() - started) / 1000)).padStart(4);
      const quality = acc?.test != null ? `; mean test accuracy ${(acc.test * 100).toFixed(1)}%` : '';
      say(
        `[${seconds}s] ${what} ${r.number} ${r.status}: ${r.submissions} submission(s), aggregated in ${(r.aggregationMs ?? 0).toFixed(1)} ms${quality}; ${f.participantsOnline} online`,
      );
    }
    const open = rounds.find((r) => r.status === 'open');
    cursor = open ? open.number : rounds.length ? rounds.at(-1)!.number + 1 : cursor;
  }
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseDemoOptions>;
  try {
    options = parseDemoOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof DemoUsageError)) throw err;
    process.stderr.write(`demo: ${err.message}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(HELP);
    return 0;
  }
  const group = new ProcessGroup();
  const running: Running = { group, participants: [] };
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'mutua-demo-'));
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) {
      // A second Ctrl-C: no more waiting.
      group.killAll();
      process.exit(130);
    }
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => group.killAll());
  let code = 0;
  const demo = run(options, dataDir, controller.signal, running).catch((err: unknown) => {
    if (controller.signal.aborted) return; // a startup step cut short by Ctrl-C
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    code = 1;
  });
  await Promise.race([demo, new Promise((resolve) => controller.signal.addEventListener('abort', resolve))]);
  say('Stopping the participants and the coordinator…');
  controller.abort();
  // Participants first, so they leave cleanly while the coordinator still answers.
  await Promise.all(running.participants.map((c) => group.stop(c)));
  if (running.coordinator) await group.stop(running.coordinator);
  await demo;
  if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
  say('Stopped.');
  return code;
}

process.exit(await main());
