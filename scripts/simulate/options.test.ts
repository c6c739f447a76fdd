import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { helpText, OptionError, parseOptions, type SimulateOptions } from './options.ts';

const parse = (...argv: string[]) => parseOptions(argv, new Date('2026-01-02T03:04:05Z')) as SimulateOptions;

describe('simulate options', () => {
  it('defaults: MNIST, 10 clients, alpha 0.5, all four methods, cnn-small', () => {
    const o = parse();
    assert.equal(o.dataset, 'mnist');
    assert.equal(o.clients, 10);
    assert.equal(o.alpha, 0.5);
    assert.deepEqual(o.methods, ['local-only', 'fedavg', 'mutual-sync', 'mutual-async']);
    assert.deepEqual(o.models, ['cnn-small']);
    assert.equal(o.bufferK, 5);
    assert.equal(o.maxStaleness, 40);
    assert.equal(o.limit, undefined);
    assert.equal(o.target, undefined);
    assert.equal(o.out, 'results/tmp/simulate-mnist-20260102-030405');
    assert.equal(o.progress, true);
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
