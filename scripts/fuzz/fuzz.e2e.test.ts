// The short CI run of `npm run fuzz`: 3,000 frames (at most 60 s) against a coordinator it
// starts itself, held to the same targets as the long run (report.ts) — no crash, no
// INTERNAL error, no error-level log line, RSS within 100 MiB, legitimate rounds closing,
// /healthz p99 under 200 ms — and proof the frames reached the coordinator's checks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fuzz.ts', import.meta.url));

function runFuzz(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_TEST_CONTEXT: '' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the fuzzer ran longer than 3 minutes\n${out}`));
    }, 180_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

const count = (out: string, label: string) =>
  Number(new RegExp(`^ {2}${label} +(\\d+)$`, 'm').exec(out)?.[1] ?? 0);

/** Above this /healthz p99 with no fuzz at all, the machine itself is too loaded to hold the 200 ms target. */
const QUIET_BASELINE_P99_MS = 100;

it('npm run fuzz -- --frames 3000 --seconds 60 meets every target', { timeout: 200_000 }, async (t) => {
  const { code, out } = await runFuzz(['--frames', '3000', '--seconds', '60', '--seed', '7', '--quiet']);
  assert.match(out, /^targets:$/m, out);
  const missed = [...out.matchAll(/^ {2}MISS (.*)$/gm)].map((m) => m[1]!);
  const baselineP99 = Number(/before the fuzz .*p99 ([\d.]+) ms/.exec(out)?.[1]);
  // On a machine already slow without the fuzz (e.g. beside the rest of the suite), latency
  // and RSS depend on how the machine schedules the coordinator and its collector: they are
  // reported, not asserted (README, "Fuzzing": the 100,000-frame figures are taken idle).
  // Crashes, INTERNAL errors, error log lines and closing rounds are asserted always.
  const loadBound = (m: string) => m.startsWith('/healthz') || m.startsWith('RSS');
  if (missed.length > 0 && missed.every(loadBound) && baselineP99 >= QUIET_BASELINE_P99_MS) {
    t.diagnostic(`not assertable here (p99 ${baselineP99} ms before the fuzz): ${missed.join('; ')}`);
    assert.equal(code, 1, out);
  } else {
    assert.deepEqual(missed, [], out);
    assert.equal(code, 0, out);
  }
  const sent = Number(/^fuzz: (\d+) frames/m.exec(out)?.[1]);
  assert.ok(sent >= 1000, `at least 1,000 frames in 60 s, got ${sent}\n${out}`);
  // The mutations reached the coordinator's decoder, its pre-auth gate and its submission checks.
  for (const code of ['BAD_FRAME', 'NOT_AUTHENTICATED', 'BAD_PAYLOAD', 'UNEXPECTED_MESSAGE'])
    assert.ok(count(out, code) > 0, `no ${code} error received\n${out}`);
  assert.equal(count(out, 'INTERNAL'), 0, out);
  assert.match(out, /legitimate participants: [1-9]\d* rounds closed/, out);
});

it('npm run fuzz refuses a bad option with exit 2 and one line', async () => {
  const { code, out } = await runFuzz(['--frames', 'many']);
  assert.equal(code, 2);
  assert.equal(out.trim(), 'fuzz: --frames needs an integer from 1 to 100000000, got many');
});
