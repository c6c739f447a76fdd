import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publicSetBytesFromMetrics } from './coordinator.ts';

describe('publicSetBytesFromMetrics', () => {
  it('sums the counter over its content codings and ignores every other metric', () => {
    const text = [
      '# HELP mutua_public_set_bytes_sent_total Public-set body bytes sent, by content coding',
      '# TYPE mutua_public_set_bytes_sent_total counter',
      'mutua_public_set_bytes_sent_total{coding="br"} 266486',
      'mutua_public_set_bytes_sent_total{coding="gzip"} 311818',
      'mutua_public_set_requests_total{status="200"} 2',
      'mutua_bytes_sent_total 1000',
    ].join('\n');
    assert.equal(publicSetBytesFromMetrics(text), 266486 + 311818);
  });

  it('is 0 before any download (the counter has no sample yet)', () => {
    assert.equal(publicSetBytesFromMetrics('# TYPE mutua_public_set_bytes_sent_total counter\n'), 0);
  });
});
