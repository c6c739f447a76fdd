/**
 * A Transport over the standard WebSocket API: the browser's (and a Web Worker's) global
 * WebSocket, or any constructor with the same interface, such as the `ws` package's in Node
 * (`createWebSocketTransport({ WebSocket: (await import('ws')).WebSocket })`). Nothing
 * Node-specific is imported here, so the module bundles for the browser as is.
 */
import {
  ABNORMAL_CLOSURE,
  type CloseHandler,
  type Connection,
  type MessageHandler,
  type Transport,
} from './transport.ts';

/** The part of the WHATWG WebSocket interface this adapter uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface WebSocketTransportOptions {
  /** Default: the global WebSocket (browsers, Web Workers, Node >= 22). */
  WebSocket?: WebSocketConstructor;
}

const OPEN = 1;

/** Close codes an application may send (RFC 6455 §7.4; browsers throw on others). */
function sendableCode(code: number | undefined): number {
  return code === 1000 || (code !== undefined && code >= 3000 && code <= 4999) ? code : 1000;
}

function toBytes(data: unknown): Uint8Array | null {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return null;
}

export function createWebSocketTransport(options: WebSocketTransportOptions = {}): Transport {
  return {
    connect(url: string): Promise<Connection> {
      const Ctor =
        options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? undefined;
      if (!Ctor) {
        return Promise.reject(
          new TypeError('no WebSocket implementation: pass one (e.g. the ws package) as options.WebSocket'),
        );
      }
      return new Promise((resolve, reject) => {
        let socket: WebSocketLike;
        try {
          socket = new Ctor(url);
        } catch (err) {
          reject(err);
          return;
        }
        socket.binaryType = 'arraybuffer';
        let opened = false;
        let onMessage: MessageHandler | null = null;
        let onClose: CloseHandler | null = null;
        const early: Uint8Array[] = [];
        let closed: { code: number; reason: string } | null = null;

        socket.onopen = () => {
          opened = true;
          resolve(connection);
        };
        socket.onerror = () => {
          // Browsers give no detail on errors; the close event that follows carries the code.
          if (!opened) reject(new Error(`WebSocket connection to ${url} failed`));
        };
        socket.onmessage = (event) => {
          const bytes = toBytes(event.data);
          // Text frames are not part of the protocol: hand them over as bytes that will not decode.
          const frame = bytes ?? new TextEncoder().encode(String(event.data));
          if (onMessage) onMessage(frame);
          else early.push(frame);
        };
        socket.onclose = (event) => {
          if (!opened) {
            reject(new Error(`WebSocket connection to ${url} closed before opening (${event.code})`));
            return;
          }
          if (closed) return;
          closed = { code: event.code || ABNORMAL_CLOSURE, reason: event.reason ?? '' };
          onClose?.(closed.code, closed.reason);
        };

        const connection: Connection = {
          send(bytes) {
            if (socket.readyState === OPEN) socket.send(bytes);
          },
          onMessage(handler) {
            onMessage = handler;
            for (const frame of early.splice(0)) handler(frame);
          },
          onClose(handler) {
            onClose = handler;
            if (closed) handler(closed.code, closed.reason);
          },
          close(code, reason) {
            try {
              socket.close(sendableCode(code), reason?.slice(0, 120));
            } catch {
              socket.close();
            }
          },
        };
      });
    },
  };
}
