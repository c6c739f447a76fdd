import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { OptionError, parseOptions, SHIPPED_NODE_OPTIONS } from './options.ts';

describe('npm run fuzz options', () => {
  it('passes --node-options to the coordinator it starts, and refuses it with --coordinator', () => {
    assert.equal(parseOptions([]).nodeOptions, SHIPPED_NODE_OPTIONS, 'the coordinator as shipped');
    assert.equal(parseOptions(['--node-options', 'none']).nodeOptions, '', "V8's defaults");
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

  it('fuzzes the coordinator as shipped: npm start and the image carry the same V8 flags', () => {
    const root = new URL('../../', import.meta.url);
    const start = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).scripts.start as string;
    assert.ok(
      start.includes(`node ${SHIPPED_NODE_OPTIONS} server/bin/mutua-server.js`),
      `npm start runs the coordinator with ${SHIPPED_NODE_OPTIONS}: ${start}`,
    );
    const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
    assert.match(dockerfile, new RegExp(`NODE_OPTIONS=${SHIPPED_NODE_OPTIONS}\\b`), 'the image sets it');
    assert.equal(parseOptions(['--coordinator', 'http://x:1', '--admin-token', 't']).nodeOptions, '');
  });

  it('bounds its numbers', () => {
    assert.equal(parseOptions(['--frames', '5']).frames, 5);
    assert.throws(() => parseOptions(['--frames', '0']), OptionError);
    assert.throws(() => parseOptions(['--pre-auth', '0', '--post-auth', '0']), /nothing fuzzes/);
  });
});
