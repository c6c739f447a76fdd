import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { TickCork } from './socket-cork.ts';

describe('TickCork', () => {
  it("finds ws's socket and sends the frames of one tick in one write", async () => {
    const server = new WebSocketServer({ port: 0 });
    await once(server, 'listening');
    const accepted = once(server, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [peer] = (await accepted) as [WebSocket];
    await once(client, 'open');
    try {
      const socket = TickCork.socketOf(peer);
      assert.ok(socket, 'ws keeps its net.Socket in _socket: the corking adapter still works');
      let writes = 0;
      const write = socket._write.bind(socket);
      socket._write = (...args: Parameters<typeof socket._write>) => {
        writes++;
        write(...args);
      };
      let writevs = 0;
      const writev = socket._writev?.bind(socket);
      if (writev)
        socket._writev = (...args: Parameters<NonNullable<typeof socket._writev>>) => {
          writevs++;
          writev(...args);
        };
      const received = new Promise<void>((resolve) => {
        let n = 0;
        client.on('message', () => ++n === 2 && resolve());
      });
      const cork = new TickCork(peer);
      cork.cork();
      peer.send(Uint8Array.of(1));
      cork.cork();
      peer.send(Uint8Array.of(2));
      await received;
      assert.equal(writes + writevs, 1, 'two frames, one write');
    } finally {
      client.close();
      server.close();
    }
  });
});
