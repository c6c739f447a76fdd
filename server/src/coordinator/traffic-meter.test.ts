import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { TrafficMeter } from './traffic-meter.ts';

type Entry = { id: string; bytesIn: number; bytesOut: number };
const quietLog = { warn: () => {} } as unknown as FastifyBaseLogger;

describe('TrafficMeter', () => {
  it('adds up counters per participant and writes them in one batch', async () => {
    const writes: Entry[][] = [];
    const meter = new TrafficMeter(
      { addTrafficMany: async (e) => void writes.push([...e]) },
      quietLog,
      60_000,
    );
    meter.count('a', 10, 1);
    meter.count('b', 5, 0);
    meter.count('a', 2, 3);
    await meter.flush();
    meter.stop();
    assert.deepEqual(writes, [
      [
        { id: 'a', bytesIn: 12, bytesOut: 4 },
        { id: 'b', bytesIn: 5, bytesOut: 0 },
      ],
    ]);
    await meter.flush();
    assert.equal(writes.length, 1, 'nothing pending: nothing written');
  });

  it('keeps the counters of a failed write for the next flush', async () => {
    let fail = true;
    const writes: Entry[][] = [];
    const meter = new TrafficMeter(
      {
        addTrafficMany: async (e) => {
          if (fail) throw new Error('database down');
          writes.push([...e]);
        },
      },
      quietLog,
      60_000,
    );
    meter.count('a', 7, 7);
    await meter.flush();
    fail = false;
    meter.count('a', 1, 0);
    await meter.flush();
    meter.stop();
    assert.deepEqual(writes, [[{ id: 'a', bytesIn: 8, bytesOut: 7 }]]);
  });
});
