import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { AdminClient } from './client.ts';
import { CliError } from './errors.ts';

/** A stand-in for a load balancer in front of a dying replica: answers with `script`, in order. */
async function balancer(script: (string | number)[]) {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.method!);
    const step = script.shift() ?? 200;
    if (step === 'cut') return void req.socket.destroy();
    res.writeHead(step as number, { 'content-type': 'application/json' });
    res.end(step === 200 ? '[]' : JSON.stringify({ statusCode: step, code: 'BAD_GATEWAY', message: 'down' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { client: new AdminClient(url, 'token'), seen, close: () => server.close() };
}

describe('AdminClient retries a GET that meets a dying replica', () => {
  it('sends a GET again after 502, 503 and a cut connection, and gets the answer', async () => {
    const lb = await balancer([502, 'cut', 503]);
    try {
      assert.deepEqual(await lb.client.listFederations(), []);
      assert.deepEqual(lb.seen, ['GET', 'GET', 'GET', 'GET']);
    } finally {
      lb.close();
    }
  });

  it('gives up after its retries, with the last error', async () => {
    const lb = await balancer([503, 503, 503, 503, 503]);
    try {
      await assert.rejects(lb.client.listFederations(), CliError);
      assert.equal(lb.seen.length, 4);
    } finally {
      lb.close();
    }
  });

  it('never sends a POST twice', async () => {
    const lb = await balancer([502]);
    try {
      await assert.rejects(lb.client.createFederation({ name: 'x' }), CliError);
      assert.deepEqual(lb.seen, ['POST']);
    } finally {
      lb.close();
    }
  });
});
