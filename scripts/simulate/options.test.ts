import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applySweepPoint,
  helpText,
  OptionError,
  parseOptions,
  parseSweep,
  type SimulateOptions,
  sweepAffects,
  sweepGrid,
  variantLabel,
} from './options.ts';

const parse = (...argv: string[]) => parseOptions(argv, new Date('2026-01-02T03:04:05Z')) as SimulateOptions;

describe('simulate options', () => {
  it('defaults: MNIST, 10 clients, alpha 0.5, every method (both baselines, FedAvg at three encodings), cnn-small', () => {
    const o = parse();
    assert.equal(o.dataset, 'mnist');
    assert.equal(o.clients, 10);
    assert.equal(o.alpha, 0.5);
    assert.deepEqual(o.methods, [
      'local-only',
      'centralised',
      'fedavg',
      'fedavg-f16',
      'fedavg-u8',
      'mutual-sync',
      'mutual-async',
    ]);
    assert.deepEqual(o.seeds, [1]);
    assert.deepEqual(o.sweep, []);
    assert.deepEqual(o.models, ['cnn-small']);
    assert.equal(o.bufferK, 5);
    assert.equal(o.maxStaleness, 40);
    assert.equal(o.limit, undefined);
    assert.equal(o.target, undefined);
    assert.equal(o.out, 'results/tmp/simulate-mnist-20260102-030405');
    assert.equal(o.progress, true);
  });

  it('--seeds: a list, not with --seed; the current seed is the first', () => {
    const o = parse('--seeds', '3,1,2');
    assert.deepEqual(o.seeds, [3, 1, 2]);
    assert.equal(o.seed, 3);
    assert.throws(() => parse('--seeds', '1,1'), /lists a seed twice/);
    assert.throws(() => parse('--seeds', '1,x'), /--seeds must be a list of integers/);
    assert.throws(() => parse('--seed', '1', '--seeds', '2'), /--seed or --seeds/);
  });

  it('--sweep: repeatable key=values; the grid; flags for keys that have one, raw settings for the rest', () => {
    const o = parse(
      '--sweep',
      'lambda=0.5,1,2',
      '--sweep',
      'temperature=1,3',
      '--sweep',
      'eraTemperature=0.25',
    );
    assert.deepEqual(o.sweep, [
      { key: 'lambda', values: [0.5, 1, 2] },
      { key: 'temperature', values: [1, 3] },
      { key: 'eraTemperature', values: [0.25] },
    ]);
    const grid = sweepGrid(o.sweep);
    assert.equal(grid.length, 6);
    assert.deepEqual(grid[1], { lambda: 0.5, temperature: 3, eraTemperature: 0.25 });
    assert.equal(variantLabel(grid[1]!), 'lambda=0.5 temperature=3 eraTemperature=0.25');
    const point = applySweepPoint(o, {
      lambda: 2,
      localEpochs: 5,
      batchSize: 200,
      aggregation: 'era',
      eraTemperature: 0.25,
    });
    assert.equal(point.lambda, 2);
    assert.equal(point.epochs, 5, "localEpochs is also the participants' --epochs");
    assert.equal(point.publicBatch, 200);
    assert.equal(point.aggregation, 'era');
    assert.deepEqual(point.settings, { eraTemperature: 0.25 });
    assert.equal(o.lambda, 1, 'the base options are left alone');
    assert.deepEqual(parseSweep('aggregation=mean,era'), { key: 'aggregation', values: ['mean', 'era'] });
    assert.throws(() => parse('--sweep', 'lambda'), /key=v1,v2/);
    assert.throws(() => parse('--sweep', 'lambda='), /at least one value/);
    assert.throws(() => parse('--sweep', 'strategy=fedavg'), /--methods/);
    assert.throws(() => parse('--sweep', 'lambda=1', '--sweep', 'lambda=2'), /names a key twice/);
  });

  it('--sweep over payload codecs: list settings take their items joined by +', () => {
    const o = parse(
      '--sweep',
      'encodings=uint8,soft2+uint8,hard',
      '--sweep',
      'compressions=none,deflate-raw',
    );
    const grid = sweepGrid(o.sweep);
    assert.equal(grid.length, 6);
    const point = applySweepPoint(o, grid[3]!);
    assert.deepEqual(point.settings, { encodings: ['soft2', 'uint8'], compressions: ['deflate-raw'] });
    assert.equal(sweepAffects('fedavg', ['encodings', 'compressions']), false);
    // Delta payloads: a boolean setting, and its threshold a number.
    const d = parse('--sweep', 'delta=false,true', '--sweep', 'deltaThreshold=0,0.05');
    const points = sweepGrid(d.sweep).map((p) => applySweepPoint(d, p).settings);
    assert.deepEqual(points[3], { delta: true, deltaThreshold: 0.05 });
    assert.deepEqual(points[0], { delta: false, deltaThreshold: 0 });
    assert.throws(() => applySweepPoint(d, { delta: 'yes' }), /takes true or false/);
  });

  it('a sweep reruns FedAvg and the baselines only for settings they use', () => {
    assert.equal(sweepAffects('mutual-sync', ['lambda']), true);
    assert.equal(sweepAffects('fedavg-u8', ['lambda', 'temperature']), false);
    assert.equal(sweepAffects('fedavg', ['localEpochs']), true);
    assert.equal(sweepAffects('fedavg', ['weightEncoding']), true);
    assert.equal(sweepAffects('local-only', ['weightEncoding']), false);
    assert.equal(sweepAffects('centralised', ['lambda', 'localEpochs']), true);
  });

  it('--aggregation: every rule the coordinator offers, agreement included', () => {
    assert.equal(parse().aggregation, 'mean');
    assert.equal(parse('--aggregation', 'agreement').aggregation, 'agreement');
    assert.equal(parse('--aggregation', 'trimmed-mean').aggregation, 'trimmed-mean');
    assert.match(helpText(), /mean\|entropy\|era\|median\|trimmed-mean\|agreement/);
  });

  it('--attackers K --attack KIND: none by default; both or neither', () => {
    assert.equal(parse().attackers, 0);
    assert.equal(parse().attack, undefined);
    const o = parse('--clients', '8', '--attackers', '2', '--attack', 'copy');
    assert.equal(o.attackers, 2);
    assert.equal(o.attack, 'copy');
    for (const flag of ['--attackers', '--attack']) assert.ok(helpText().includes(flag), flag);
    assert.match(helpText(), /wrong\|noise\|copy/);
  });

  it('--table: the run directories to print a docs table from', () => {
    assert.deepEqual(parse('--table', 'a, b/c').table, ['a', 'b/c']);
  });

  it('reads every flag', () => {
    const o = parse(
      '--dataset=fashion-mnist',
      '--clients=4',
      '--alpha=0.1',
      '--seed=7',
      '--limit=200',
      '--methods=mutual-async,local-only',
      '--models=mlp,cnn-small',
      '--rounds=3',
      '--stragglers=1',
      '--slowdown=4',
      '--target-accuracy=85',
      '--out=x',
      '--no-progress',
      '--buffer-k=3',
    );
    assert.equal(o.dataset, 'fashion-mnist');
    assert.equal(o.clients, 4);
    assert.equal(o.limit, 200);
    assert.deepEqual(o.methods, ['mutual-async', 'local-only']);
    assert.deepEqual(o.models, ['mlp', 'cnn-small']);
    assert.equal(o.stragglers, 1);
    assert.equal(o.slowdown, 4);
    assert.equal(o.target, 0.85);
    assert.equal(o.bufferK, 3);
    assert.equal(o.maxStaleness, 16);
    assert.equal(o.progress, false);
    assert.equal(parse('--target-accuracy', '0.9').target, 0.9);
    assert.equal(parse('--render', 'docs/results/x').render, 'docs/results/x');
    assert.equal(parse('--async-budget', '90').asyncBudget, 90_000);
    assert.equal(parse('--async-budget', 'sync').asyncBudget, 'sync');
    assert.equal(parse().asyncBudget, undefined);
  });

  const refused: [string[], RegExp][] = [
    [['--bogus'], /Unknown option '--bogus'.*see --help/],
    [['--dataset', 'cifar'], /--dataset must be mnist or fashion-mnist, got "cifar"/],
    [['--clients', '0'], /--clients must be an integer >= 1, got "0"/],
    [['--alpha=-1'], /--alpha must be a number > 0/],
    [['--methods', 'fedavg,fedprox'], /--methods: unknown "fedprox"/],
    [['--methods', 'fedavg,fedavg'], /lists a method twice/],
    [['--model', 'resnet'], /--models: unknown "resnet"/],
    [['--model', 'mlp', '--models', 'mlp'], /--model or --models, not both/],
    [['--clients', '3', '--stragglers', '4'], /--stragglers 4 is more than --clients 3/],
    [['--slowdown', '0.5'], /--slowdown must be a number >= 1/],
    [['--rounds', '2.5'], /--rounds must be an integer >= 1/],
    [['--aggregation', 'max'], /--aggregation must be one of/],
    [
      ['--clients', '3', '--attackers', '3', '--attack', 'wrong'],
      /--attackers 3 leaves no honest participant/,
    ],
    [['--attackers', '1'], /--attackers 1 needs --attack/],
    [['--attack', 'wrong'], /--attack needs --attackers/],
    [['--attackers', '1', '--attack', 'flip'], /--attack must be one of wrong, noise, copy, got "flip"/],
    [['--attackers=-1', '--attack', 'wrong'], /--attackers must be an integer >= 0/],
    [['--async-budget=-5'], /--async-budget must be a number of seconds > 0 or "sync"/],
    [['--async-budget', 'sync', '--methods', 'mutual-async,mutual-sync'], /needs mutual-sync to run before/],
  ];
  for (const [argv, message] of refused) {
    it(`refuses ${argv.join(' ')}`, () => {
      assert.throws(
        () => parseOptions(argv),
        (e: unknown) => e instanceof OptionError && message.test(e.message),
      );
    });
  }

  it('--help lists every flag', () => {
    assert.equal(parseOptions(['--help']), 'help');
    const text = helpText();
    for (const flag of [
      '--dataset',
      '--clients',
      '--alpha',
      '--seed',
      '--public-size',
      '--test-size',
      '--limit',
      '--methods',
      '--rounds',
      '--model ',
      '--models',
      '--stragglers',
      '--slowdown',
      '--out',
      '--help',
    ]) {
      assert.ok(text.includes(flag), flag);
    }
  });
});
