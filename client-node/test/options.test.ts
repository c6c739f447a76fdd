import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError } from '../src/cli-error.ts';
import { coordinatorWsUrl } from '../src/coordinator-url.ts';
import { defaultCacheDir, HELP, parseOptions } from '../src/options.ts';

const base = ['--coordinator', 'http://localhost:8080', '--token', 't', '--data', 'builtin:mnist'];

function usageError(args: string[], message: RegExp): void {
  assert.throws(
    () => parseOptions(args),
    (err: unknown) =>
      err instanceof CliError && err.code === 'USAGE' && err.exitCode === 2 && message.test(err.message),
    args.join(' '),
  );
}

describe('coordinator URL', () => {
  it('keeps ws(s) URLs and turns http(s) origins into the WebSocket endpoint', () => {
    assert.equal(coordinatorWsUrl('ws://h:1/v1/ws'), 'ws://h:1/v1/ws');
    assert.equal(coordinatorWsUrl('wss://h/custom'), 'wss://h/custom');
    assert.equal(coordinatorWsUrl('http://h:8080'), 'ws://h:8080/v1/ws');
    assert.equal(coordinatorWsUrl('https://h/'), 'wss://h/v1/ws');
    assert.equal(coordinatorWsUrl('https://h/mutua/'), 'wss://h/mutua/v1/ws');
    assert.equal(coordinatorWsUrl('http://h/v1/ws'), 'ws://h/v1/ws');
    assert.throws(() => coordinatorWsUrl('ftp://h'), CliError);
    assert.throws(() => coordinatorWsUrl('localhost:8080'), CliError);
  });
});

describe('parseOptions', () => {
  it('fills the documented defaults', () => {
    const o = parseOptions(base, { XDG_CACHE_HOME: '/x/cache' })!;
    assert.equal(o.coordinator, 'ws://localhost:8080/v1/ws');
    assert.equal(o.model, 'mlp');
    assert.equal(o.backend, 'auto');
    assert.equal(o.batchSize, 32);
    assert.equal(o.learningRate, 0.001);
    assert.equal(o.valFraction, 0.1);
    assert.equal(o.slowdown, 1);
    assert.equal(o.epochs, undefined);
    assert.equal(o.cacheDir, '/x/cache/mutua');
    assert.equal(o.connectAttempts, 5);
    assert.equal(o.localOnly, false);
    assert.equal(defaultCacheDir({}).endsWith('/.cache/mutua'), true);
  });

  it('chooses the payloads offered: encodings, compression, deltas', () => {
    const d = parseOptions(base)!;
    assert.equal(d.encodings, undefined);
    assert.deepEqual(d.compressions, ['deflate-raw']);
    assert.equal(d.delta, true);
    const o = parseOptions([...base, '--encodings', 'soft2, hard', '--compression', 'none', '--no-delta'])!;
    assert.deepEqual(o.encodings, ['soft2', 'hard']);
    assert.deepEqual(o.compressions, []);
    assert.equal(o.delta, false);
    usageError([...base, '--encodings', 'soft3'], /--encodings takes a list of .*soft2.*got "soft3"/);
    usageError([...base, '--encodings', 'uint8,'], /--encodings takes a list/);
    usageError([...base, '--compression', 'gzip'], /--compression must be deflate-raw or none/);
    usageError(
      ['--local-only', '--rounds', '1', '--data', 'builtin:mnist', '--no-delta'],
      /--local-only uploads nothing/,
    );
    assert.match(HELP, /--encodings LIST/);
    assert.match(HELP, /--no-delta/);
  });

  it('reads a simulation shard', () => {
    const o = parseOptions([
      ...base,
      '--shard',
      '2/10',
      '--alpha',
      '0.1',
      '--seed',
      '5',
      '--public-size',
      '500',
      '--test-size',
      '2000',
      '--eval-test',
    ])!;
    assert.deepEqual(o.shard, { index: 2, count: 10, alpha: 0.1, seed: 5, publicSize: 500, testSize: 2000 });
    assert.equal(o.evalTest, true);
    assert.equal(o.seed, 5);
  });

  it('--shard all/N: every private shard, for a --local-only baseline only', () => {
    const local = ['--local-only', '--rounds', '2', '--data', 'builtin:mnist'];
    const o = parseOptions([...local, '--shard', 'all/4', '--eval-test'])!;
    assert.deepEqual(o.shard, {
      index: 0,
      all: true,
      count: 4,
      alpha: 0.5,
      seed: 0,
      publicSize: 1000,
      testSize: 1000,
    });
    assert.throws(() => parseOptions([...base, '--shard', 'all/4']), /--local-only baseline/);
  });

  it('returns null for --help, whose text lists every option', () => {
    assert.equal(parseOptions(['--help']), null);
    for (const flag of [
      '--coordinator',
      '--token',
      '--data',
      '--model',
      '--epochs',
      '--batch-size',
      '--lr',
      '--backend',
      '--checkpoint-dir',
      '--name',
      '--cache-dir',
      '--export-dir',
      '--val-fraction',
      '--max-rounds',
      '--slowdown',
      '--metrics-out',
      '--quiet',
      '--local-only',
      '--rounds',
      '--shard',
      '--alpha',
      '--seed',
      '--public-size',
      '--test-size',
      '--eval-test',
      '--limit',
      '--shape',
      '--no-retry',
      '--attack',
    ]) {
      assert.match(HELP, new RegExp(`^\\s+${flag}\\b`, 'm'), flag);
    }
  });

  it('--attack: wrong, noise or copy, each explained in --help; none by default', () => {
    assert.equal(parseOptions(base)!.attack, undefined);
    for (const kind of ['wrong', 'noise', 'copy'] as const) {
      assert.equal(parseOptions([...base, '--attack', kind])!.attack, kind);
      assert.match(HELP, new RegExp(`^\\s+${kind}\\s+\\S`, 'm'), kind);
    }
    usageError([...base, '--attack', 'flip'], /--attack must be one of wrong, noise, copy, got "flip"/);
    usageError(
      ['--local-only', '--rounds', '1', '--data', 'builtin:mnist', '--attack', 'wrong'],
      /--attack .*--local-only uploads nothing/,
    );
  });

  it('refuses what cannot work, naming the option', () => {
    usageError(['--token', 't', '--data', 'builtin:mnist'], /--coordinator is required/);
    usageError(['--coordinator', 'ws://h/v1/ws', '--data', 'builtin:mnist'], /--token is required/);
    usageError([...base.slice(0, 4)], /--data is required/);
    usageError([...base, '--model', 'resnet'], /--model must be one of mlp, cnn-small, cnn-fedavg/);
    usageError([...base, '--backend', 'gpu'], /--backend/);
    usageError([...base, '--epochs', '0'], /--epochs must be an integer >= 1/);
    usageError([...base, '--lr', 'fast'], /--lr must be a number > 0/);
    usageError([...base, '--slowdown', '0.5'], /--slowdown must be a number >= 1/);
    usageError([...base, '--val-fraction', '1'], /--val-fraction/);
    usageError([...base, '--shard', '3/3'], /0 <= k < N/);
    usageError([...base, '--shard', 'two'], /--shard must be k\/N/);
    usageError([...base, '--alpha', '1'], /--alpha only applies with --shard/);
    usageError([...base, '--eval-test'], /--eval-test .* --shard/);
    usageError([...base, '--shape', '28by28'], /--shape must look like 28x28x1/);
    usageError([...base, '--rounds', '3'], /--rounds is for --local-only/);
    usageError(['--local-only', '--data', 'builtin:mnist'], /--local-only needs --rounds/);
    usageError(['--local-only', '--rounds', '2', ...base], /drop --coordinator and --token/);
    usageError(
      ['--coordinator', 'ws://h', '--token', 't', '--data', 'csv:x.csv', '--shard', '0/2'],
      /built-in/,
    );
  });
});
