import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOptions as parseClientOptions } from '../../client-node/src/options.ts';
import { parseOptions, type SimulateOptions } from './options.ts';
import {
  clientArgs,
  federationSettings,
  participantPlans,
  skipReason,
  sourceLimit,
  withOverrides,
} from './plan.ts';

const options = (...argv: string[]) => parseOptions(argv) as SimulateOptions;
const paths = { metricsOut: '/tmp/m.jsonl', cacheDir: '/tmp/c', checkpointDir: '/tmp/k' };

describe('simulation plan', () => {
  it('assigns architectures round-robin and slows the last k participants', () => {
    const plans = participantPlans(
      options('--clients', '5', '--models', 'mlp,cnn-small', '--stragglers', '2', '--slowdown', '5'),
    );
    assert.deepEqual(
      plans.map((p) => [p.index, p.model, p.slowdown]),
      [
        [0, 'mlp', 1],
        [1, 'cnn-small', 1],
        [2, 'mlp', 1],
        [3, 'cnn-small', 5],
        [4, 'mlp', 5],
      ],
    );
  });

  it('--attackers: the last K attack in mutual methods; fedavg and local-only run them honestly', () => {
    const o = options('--clients', '4', '--attackers', '2', '--attack', 'wrong', '--model', 'mlp');
    const plans = participantPlans(o);
    assert.deepEqual(
      plans.map((p) => p.attack),
      [undefined, undefined, 'wrong', 'wrong'],
    );
    assert.equal(participantPlans(o, 'centralised')[0]!.attack, undefined);
    const fed = { coordinator: 'ws://h/v1/ws', token: 't' };
    for (const method of ['mutual-sync', 'mutual-async'] as const) {
      const args = clientArgs(method, o, plans[3]!, paths, fed);
      assert.equal(parseClientOptions(args)!.attack, 'wrong', method);
      assert.equal(parseClientOptions(clientArgs(method, o, plans[0]!, paths, fed))!.attack, undefined);
    }
    assert.ok(!clientArgs('fedavg', o, plans[3]!, paths, fed).includes('--attack'));
    assert.equal(parseClientOptions(clientArgs('local-only', o, plans[3]!, paths))!.attack, undefined);
  });

  it('skips FedAvg when architectures differ, and only then', () => {
    assert.match(
      skipReason('fedavg', participantPlans(options('--models', 'mlp,cnn-small,cnn-fedavg')))!,
      /same architecture.*mlp, cnn-small, cnn-fedavg/,
    );
    assert.equal(skipReason('fedavg', participantPlans(options('--models', 'mlp,mlp'))), undefined);
    assert.equal(
      skipReason('mutual-sync', participantPlans(options('--models', 'mlp,cnn-small'))),
      undefined,
    );
  });

  it('federation settings: fedavg sync with the architecture; mutual sync/async; rounds wait for everyone', () => {
    const o = options(
      '--clients',
      '4',
      '--model',
      'cnn-fedavg',
      '--public-size',
      '300',
      '--public-batch',
      '500',
    );
    const plans = participantPlans(o);
    const f = federationSettings('fedavg', o, plans);
    assert.equal(f.strategy, 'fedavg');
    assert.equal(f.mode, 'sync');
    assert.equal(f.modelArch, 'cnn-fedavg');
    assert.deepEqual(f.sync, { quorum: 0, deadlineMs: 0, minParticipants: 4 });
    const s = federationSettings('mutual-sync', o, plans);
    assert.equal(s.strategy, 'mutual');
    assert.equal(s.mode, 'sync');
    assert.equal(s.batchSize, 300, 'never more public samples per round than there are');
    const a = federationSettings('mutual-async', o, plans);
    assert.equal(a.mode, 'async');
    assert.deepEqual(a.async, { bufferK: 2, stalenessExponent: 0.5, maxStaleness: 16 });
  });

  it('FedAvg variants ask for their weight encoding; a sweep point sets raw settings by path', () => {
    const o = options('--clients', '2', '--model', 'mlp');
    const plans = participantPlans(o);
    assert.equal(federationSettings('fedavg', o, plans).weightEncoding, 'float32');
    assert.equal(federationSettings('fedavg-f16', o, plans).weightEncoding, 'float16');
    assert.equal(federationSettings('fedavg-u8', o, plans).weightEncoding, 'uint8');
    assert.equal(federationSettings('mutual-sync', o, plans).weightEncoding, undefined);
    assert.equal(
      skipReason('fedavg-u8', participantPlans(options('--models', 'mlp,cnn-small'))) !== undefined,
      true,
    );
    const swept = { ...o, settings: { eraTemperature: 0.25, 'async.bufferK': 3 } };
    const m = federationSettings('mutual-async', swept, plans);
    assert.equal(m.eraTemperature, 0.25);
    assert.deepEqual(m.async, { bufferK: 3, stalenessExponent: 0.5, maxStaleness: 8 });
    assert.deepEqual(withOverrides({ a: { b: 1 } }, { 'a.c': 2, d: 'x' }), { a: { b: 1, c: 2 }, d: 'x' });
  });

  it('centralised: one participant, --local-only on every private shard', () => {
    const o = options('--clients', '3', '--models', 'mlp,cnn-small', '--stragglers', '1', '--rounds', '4');
    const plans = participantPlans(o, 'centralised');
    assert.deepEqual(plans, [{ index: 0, model: 'mlp', slowdown: 1 }]);
    const c = parseClientOptions(clientArgs('centralised', o, plans[0]!, paths), {})!;
    assert.equal(c.localOnly, true);
    assert.equal(c.rounds, 4);
    assert.equal(c.shard!.all, true);
    assert.equal(c.shard!.count, 3);
    assert.equal(c.evalTest, true);
  });

  it('--limit L is a source of clients*L + public + test samples', () => {
    assert.equal(
      sourceLimit(options('--clients', '3', '--limit', '100', '--public-size', '50', '--test-size', '60')),
      410,
    );
    assert.equal(sourceLimit(options()), undefined);
  });

  it('mutua-client accepts the command lines the harness builds (same split flags everywhere)', () => {
    const o = options(
      '--clients',
      '3',
      '--limit',
      '100',
      '--public-size',
      '50',
      '--test-size',
      '60',
      '--seed',
      '9',
      '--alpha',
      '0.3',
      '--stragglers',
      '1',
      '--rounds',
      '4',
    );
    const plans = participantPlans(o);
    const fed = parseClientOptions(
      clientArgs('mutual-sync', o, plans[2]!, paths, { coordinator: 'ws://127.0.0.1:1/v1/ws', token: 't' }),
      {},
    )!;
    assert.deepEqual(fed.shard, { index: 2, count: 3, alpha: 0.3, seed: 9, publicSize: 50, testSize: 60 });
    assert.equal(fed.limit, 410);
    assert.equal(fed.maxRounds, 4);
    assert.equal(fed.slowdown, 5);
    assert.equal(fed.evalTest, true);
    assert.equal(fed.metricsOut, '/tmp/m.jsonl');
    assert.equal(fed.coordinator, 'ws://127.0.0.1:1/v1/ws');
    const local = parseClientOptions(clientArgs('local-only', o, plans[0]!, paths), {})!;
    assert.equal(local.localOnly, true);
    assert.equal(local.rounds, 4);
    assert.deepEqual(local.shard, { index: 0, count: 3, alpha: 0.3, seed: 9, publicSize: 50, testSize: 60 });
    assert.throws(() => clientArgs('fedavg', o, plans[0]!, paths), /needs a coordinator/);
    const fed2 = { coordinator: 'ws://127.0.0.1:1/v1/ws', token: 't' };
    const budget = { ...o, asyncBudget: 60_000 };
    const open = parseClientOptions(clientArgs('mutual-async', budget, plans[0]!, paths, fed2), {})!;
    assert.equal(open.maxRounds, undefined, 'under an async budget nobody leaves early');
    assert.equal(
      parseClientOptions(clientArgs('mutual-sync', budget, plans[0]!, paths, fed2), {})!.maxRounds,
      4,
    );
  });
});
