import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError, PublicSetError } from '@mutua/proto';
import { DbError, type DbErrorCode } from './db/index.ts';
import { SettingsError } from './engine/settings.ts';
import { HttpError, toHttpError } from './errors.ts';

describe('toHttpError', () => {
  it('persistence failures get a client status, never a 500', () => {
    const cases: [DbErrorCode, number, string][] = [
      ['MUTUA_ERR_DB_NOT_FOUND', 404, 'MUTUA_ERR_NOT_FOUND'],
      ['MUTUA_ERR_DB_CONFLICT', 409, 'MUTUA_ERR_CONFLICT'],
      ['MUTUA_ERR_DB_INVALID', 400, 'MUTUA_ERR_BAD_REQUEST'],
      ['MUTUA_ERR_DB_CONFIG', 503, 'MUTUA_ERR_UNAVAILABLE'],
      ['MUTUA_ERR_DB_MIGRATION', 503, 'MUTUA_ERR_UNAVAILABLE'],
    ];
    for (const [dbCode, status, code] of cases) {
      const err = toHttpError(new DbError(dbCode, `federation f1 is gone (${dbCode})`));
      assert.ok(err, dbCode);
      assert.equal(err.statusCode, status, dbCode);
      assert.equal(err.code, code, dbCode);
      // A row that vanished is worth naming; a broken database's details are not the client's business.
      assert.equal(err.message.includes('f1'), status !== 503, dbCode);
    }
  });

  it('settings, protocol and data-format errors keep their meaning', () => {
    const settings = toHttpError(new SettingsError('fedavg needs modelArch'));
    assert.deepEqual([settings?.statusCode, settings?.code], [400, 'MUTUA_ERR_BAD_SETTINGS']);
    const token = toHttpError(new ProtocolError('BAD_TOKEN', 'unknown join token'));
    assert.deepEqual([token?.statusCode, token?.code], [401, 'MUTUA_ERR_BAD_TOKEN']);
    assert.equal(toHttpError(new ProtocolError('BAD_FRAME', 'x')), null, 'no HTTP twin: a fault');
    const file = toHttpError(new PublicSetError('PUBLIC_SET_LENGTH', 'truncated'));
    assert.deepEqual([file?.statusCode, file?.code], [400, 'PUBLIC_SET_LENGTH']);
  });

  it('an HttpError is itself; anything else is a fault (null: a logged 500)', () => {
    const e = new HttpError('MUTUA_ERR_NOT_FOUND', 'federation x not found');
    assert.equal(toHttpError(e), e);
    assert.deepEqual(e.body(), {
      statusCode: 404,
      code: 'MUTUA_ERR_NOT_FOUND',
      error: 'Not Found',
      message: 'federation x not found',
    });
    assert.equal(toHttpError(new TypeError('x is undefined')), null);
    assert.equal(toHttpError(Object.assign(new Error('no such file'), { code: 'ENOENT' })), null);
    assert.equal(toHttpError('a string'), null);
  });
});
