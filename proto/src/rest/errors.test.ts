import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_POLICY, type ErrorCodeName } from '../errors.ts';
import {
  HTTP_ERRORS,
  type HttpErrorPolicy,
  httpCodeOfProtocol,
  httpStatusOf,
  isDataFormatErrorCode,
} from './errors.ts';

const entries = Object.entries(HTTP_ERRORS) as [string, HttpErrorPolicy][];

describe('HTTP error registry', () => {
  it('every code is MUTUA_ERR_* with an error status and a description', () => {
    for (const [code, policy] of entries) {
      assert.match(code, /^MUTUA_ERR_[A-Z][A-Z0-9_]*$/);
      assert.ok(policy.status >= 400 && policy.status < 600, `${code}: ${policy.status}`);
      assert.ok(policy.description.length > 10, `${code} says when it happens`);
    }
  });

  it('a condition the protocol names has one name: MUTUA_ERR_ + the ErrorCode, declared as its twin', () => {
    for (const [code, policy] of entries) {
      if (policy.protocol === undefined) continue;
      assert.ok(policy.protocol in ERROR_POLICY, `${code}: ${policy.protocol} is a protocol ErrorCode`);
      assert.equal(code, `MUTUA_ERR_${policy.protocol}`);
    }
    // The other way round: an HTTP code spelled like a protocol code must say it is that condition.
    for (const name of Object.keys(ERROR_POLICY) as ErrorCodeName[]) {
      const http = `MUTUA_ERR_${name}`;
      if (http in HTTP_ERRORS)
        assert.equal((HTTP_ERRORS as Record<string, HttpErrorPolicy>)[http]!.protocol, name, http);
    }
    assert.equal(httpCodeOfProtocol('BAD_TOKEN'), 'MUTUA_ERR_BAD_TOKEN');
    assert.equal(httpCodeOfProtocol('TOKEN_REVOKED'), 'MUTUA_ERR_TOKEN_REVOKED');
    assert.equal(httpCodeOfProtocol('BAD_FRAME'), undefined, 'a framing error has no HTTP form');
  });

  it('statuses come from the table; a data-format code is a 400', () => {
    assert.equal(httpStatusOf('MUTUA_ERR_NOT_FOUND'), 404);
    assert.equal(httpStatusOf('MUTUA_ERR_BAD_TOKEN'), 401);
    assert.equal(httpStatusOf('MUTUA_ERR_INTERNAL'), 500);
    assert.equal(httpStatusOf('DATA_IDX_TRUNCATED'), 400);
    assert.equal(httpStatusOf('PUBLIC_SET_LENGTH'), 400);
    assert.ok(isDataFormatErrorCode('DATA_CSV_SHAPE_MISMATCH'));
    assert.ok(isDataFormatErrorCode('PUBLIC_SET_MAGIC'));
    assert.ok(!isDataFormatErrorCode('MUTUA_ERR_NOT_FOUND'));
    assert.ok(!isDataFormatErrorCode('ENOENT'));
  });
});
