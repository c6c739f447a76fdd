import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { formatDuration, ProgressBar, renderBar } from './progress.ts';

class Sink extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('progress bar', () => {
  it('formats durations', () => {
    assert.equal(formatDuration(4_000), '4s');
    assert.equal(formatDuration(65_000), '1m05s');
    assert.equal(formatDuration(3_723_000), '1h02m');
  });

  it('renders the fraction, counts, label and an estimate of the rest', () => {
    const line = renderBar(5, 20, 'fedavg', 10_000, 20);
    assert.equal(line, '[#####---------------]  25% 5/20 fedavg  10s elapsed, ~30s left');
    assert.match(renderBar(0, 20, 'x', 0, 10), /^\[-{10}\] {3}0% 0\/20 x {2}0s elapsed$/);
  });

  it('off a terminal it prints a line per 10% instead of redrawing', () => {
    const sink = new Sink();
    const bar = new ProgressBar(100, sink);
    for (let i = 0; i <= 100; i++) bar.update(i, 'm');
    assert.equal(sink.text.trim().split('\n').length, 11);
    assert.doesNotMatch(sink.text, /\r/);
  });

  it('disabled, it prints only logged messages', () => {
    const sink = new Sink();
    const bar = new ProgressBar(10, sink, false);
    bar.update(5, 'm');
    bar.log('hello');
    assert.equal(sink.text, 'hello\n');
  });
});
