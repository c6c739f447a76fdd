// `npm run demo` as a person runs it: started in its own process group (a terminal's
// foreground job), left running until a round closes, then Ctrl-C (SIGINT to the group).
// Every process it started must be gone afterwards, and its temp data dir removed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { cleanEnv, REPO_ROOT } from '../simulate/coordinator.ts';
import { parseDemoOptions } from './options.ts';

/** Every process below `root` (children, grandchildren…), from /proc. */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // pid (comm) state ppid …: comm may contain spaces, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited while we looked.
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [pid, ppid] of parent) {
      if (ppid !== p) continue;
      out.push(pid);
      queue.push(pid);
    }
  }
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm run demo', () => {
  it('options: defaults, and a bad one is refused with a message', () => {
    assert.deepEqual(parseDemoOptions([]), {
      port: 0,
      dataDir: undefined,
      participants: 3,
      dataset: 'mnist',
      mode: 'sync',
    });
    assert.equal(parseDemoOptions(['--help']), 'help');
    assert.throws(
      () => parseDemoOptions(['--participants', '0']),
      /--participants must be an integer in \[1, 8\]/,
    );
    assert.throws(() => parseDemoOptions(['--mode', 'fast']), /--mode must be sync or async/);
    assert.throws(() => parseDemoOptions(['--bogus']), /Unknown option '--bogus'.*\(see --help\)/);
  });

  it('starts a coordinator and three participants, shows rounds closing, and Ctrl-C stops every process', async (t) => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const demo = spawn(npm, ['run', 'demo', '--silent'], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    let err = '';
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      demo.on('close', (code, signal) => resolve({ code, signal })),
    );
    let seen: number[] = [];
    t.after(() => {
      // Only if the test failed half-way: nothing of the demo may outlive it.
      for (const pid of [demo.pid!, ...seen]) if (alive(pid)) process.kill(pid, 'SIGKILL');
    });
    const waiters: [RegExp, (m: RegExpExecArray) => void][] = [];
    demo.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      for (const [re, resolve] of waiters) {
        const m = re.exec(out);
        if (m) resolve(m);
      }
    });
    demo.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const printed = (re: RegExp, timeoutMs: number) =>
      new Promise<RegExpExecArray>((resolve, reject) => {
        const m = re.exec(out);
        if (m) return resolve(m);
        const timer = setTimeout(
          () => reject(new Error(`no ${re} within ${timeoutMs} ms\n${out}\n${err}`)),
          timeoutMs,
        );
        waiters.push([
          re,
          (found) => {
            clearTimeout(timer);
            resolve(found);
          },
        ]);
        void exited.then((e) => {
          clearTimeout(timer);
          reject(new Error(`the demo exited (${e.code ?? e.signal}) before printing ${re}\n${out}\n${err}`));
        });
      });

    // Generous: on a loaded two-core machine the coordinator and three clients take a while to start.
    const round = await printed(/^\[ *\d+s\] round (\d+) closed: ([1-9]\d*) submission\(s\)/m, 240_000);
    assert.ok(Number(round[1]) >= 1);
    const url = /^ {2}coordinator +(http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)![1]!;
    const token = /^ {2}admin token +(\S+)/m.exec(out)![1]!;
    const federation = /^ {2}dashboard +\S+\/#federation=(\S+)$/m.exec(out)![1]!;
    assert.match(out, new RegExp(`^ {2}join link +${url}/join/mutua_\\S+`, 'm'));
    const dataDir = /\(data: (\S+)\)/.exec(out)![1]!;
    assert.ok(existsSync(dataDir));

    // What it printed works: the admin token opens the admin API, where the three participants are online.
    const res = await fetch(`${url}/v1/federations/${federation}/participants`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(res.status, 200);
    const participants = (await res.json()) as { name: string; online: boolean }[];
    assert.deepEqual(participants.map((p) => p.name).sort(), ['demo-0', 'demo-1', 'demo-2']);

    seen = descendants(demo.pid!);
    const nodes = seen.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bin/mutua-');
      } catch {
        return false;
      }
    });
    assert.equal(nodes.length, 4, `a coordinator and three participants run: ${nodes}`);

    process.kill(-demo.pid!, 'SIGINT'); // Ctrl-C in a terminal: the whole foreground group
    const started = Date.now();
    const exit = await exited;
    // npm ends the way shells expect after a Ctrl-C (killed by SIGINT, or 0 where it exits normally);
    // the demo's own clean end is its last line and an empty stderr.
    assert.ok(exit.code === 0 || exit.signal === 'SIGINT', `npm run demo ended with ${JSON.stringify(exit)}`);
    assert.equal(err, '', 'nothing on stderr');
    assert.ok(Date.now() - started < 30_000, 'stopped within 30 s');
    assert.match(out, /Stopping the participants and the coordinator…\nStopped\.\n$/);
    const left = seen.filter(alive);
    assert.deepEqual(left, [], 'no process of the demo is left');
    assert.ok(!existsSync(dataDir), 'the temp data dir is removed');
  });
});
