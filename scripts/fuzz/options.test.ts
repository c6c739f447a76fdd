import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionError, parseOptions } from './options.ts';

describe('npm run fuzz options', () => {
  it('passes --node-options to the coordinator it starts, and refuses it with --coordinator', () => {
    assert.equal(parseOptions([]).nodeOptions, '');
    assert.equal(
      parseOptions(['--node-options', '--max-old-space-size=96']).nodeOptions,
      '--max-old-space-size=96',
    );
    assert.throws(() => parseOptions(['--node-options', 'max-old-space-size=96']), OptionError);
    assert.throws(() => parseOptions(['--node-options']), OptionError);
    assert.throws(
      () =>
        parseOptions([
          '--coordinator',
          'http://127.0.0.1:8080',
          '--admin-token',
          't',
          '--node-options',
          '--max-old-space-size=96',
        ]),
      /not to --coordinator/,
    );
  });

  it('bounds its numbers', () => {
    assert.equal(parseOptions(['--frames', '5']).frames, 5);
    assert.throws(() => parseOptions(['--frames', '0']), OptionError);
    assert.throws(() => parseOptions(['--pre-auth', '0', '--post-auth', '0']), /nothing fuzzes/);
  });
});
