// The admin CLI's pure parts; the commands themselves are tested through the bin in
// server/test/admin-cli.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitCommandWords } from './args.ts';
import { normaliseCoordinator } from './client.ts';
import { CliError } from './errors.ts';
import { table } from './format.ts';
import { accuracyByRound } from './rounds.ts';

describe('admin CLI parts', () => {
  it('finds the command words after global options, leaving every option in place', () => {
    assert.deepEqual(
      splitCommandWords(['--coordinator', 'http://x', '--json', 'federation', 'list', '-h'], 2),
      {
        words: ['federation', 'list'],
        rest: ['--coordinator', 'http://x', '--json', '-h'],
      },
    );
    assert.deepEqual(splitCommandWords(['rounds', 'demo', '--follow'], 1), {
      words: ['rounds'],
      rest: ['demo', '--follow'],
    });
    assert.deepEqual(splitCommandWords(['--admin-token', 'federation'], 1), {
      words: [],
      rest: ['--admin-token', 'federation'],
    });
  });

  it('normalises the coordinator URL people paste', () => {
    assert.equal(normaliseCoordinator('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
    assert.equal(normaliseCoordinator('127.0.0.1:8080'), 'http://127.0.0.1:8080');
    assert.equal(normaliseCoordinator('ws://host:9/v1/ws'), 'http://host:9');
    assert.equal(normaliseCoordinator('wss://host/mutua/v1/ws'), 'https://host/mutua');
    assert.throws(() => normaliseCoordinator('ftp://host'), CliError);
    assert.throws(() => normaliseCoordinator('http://'), /--coordinator must be a URL/);
  });

  it('averages the latest accuracy each participant reported per round', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const acc = accuracyByRound([
      { round: 1, participantId: 'a', source: 'submission', metrics: { valAccuracy: 0.2 }, at: at(1) },
      { round: 1, participantId: 'a', source: 'report', metrics: { valAccuracy: 0.6 }, at: at(2) },
      {
        round: 1,
        participantId: 'b',
        source: 'report',
        // The REST API reports the flag as a boolean (it was 1 before issue 10's fix).
        metrics: { valAccuracy: 0.8, testAccuracy: 0.7, hasTestAccuracy: true },
        at: at(2),
      },
      {
        round: 3,
        participantId: 'a',
        source: 'report',
        metrics: { valAccuracy: 0.5, testAccuracy: 0.4, hasTestAccuracy: 1 },
        at: at(4),
      },
      // Test accuracy without the flag is the protocol's default 0, not a measurement.
      {
        round: 2,
        participantId: 'a',
        source: 'report',
        metrics: { trainLoss: 1, testAccuracy: 0 },
        at: at(3),
      },
    ]);
    assert.equal(acc.get(1)!.val, 0.7);
    assert.equal(acc.get(1)!.test, 0.7);
    assert.deepEqual(acc.get(2), { val: null, test: null });
    assert.deepEqual(acc.get(3), { val: 0.5, test: 0.4 });
  });

  it('aligns table columns and shows empty cells as "-"', () => {
    assert.equal(
      table(
        ['id', 'name', 'note'],
        [
          ['1', 'a', null],
          ['22', 'bbb', 'x'],
        ],
      ),
      'ID  NAME  NOTE\n1   a     -\n22  bbb   x\n',
    );
  });
});
