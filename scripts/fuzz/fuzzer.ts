/**
 * Fuzzing connections. Pre-auth workers open a socket and send a few mutated frames
 * without ever being admitted; post-auth workers join the federation with a real join
 * token (then resume), and send mutated frames of every kind from inside a session.
 * Floods: many sockets at once (past the connection caps), a burst of Hellos on one
 * socket, a burst of messages on an admitted one. Every frame sent, Error received, close
 * and refused upgrade is counted in Stats.
 */
import { encodeEnvelope } from '@mutua/proto';
import WebSocket from 'ws';
import { buildFrame, type Frame, type FrameContext, type Mutation, pickMutation } from './frames.ts';
import type { Rng } from './rng.ts';
import { type Inbound, readInbound, type Stats } from './stats.ts';

/** Largest frame the coordinator accepts before Welcome (server/src/ws/pre-auth-guard.ts). */
const PRE_AUTH_MAX_FRAME_BYTES = 4096;

export interface FuzzEnv {
  wsUrl: string;
  rng: Rng;
  stats: Stats;
  joinToken: string;
  inputShape: number[];
  classes: number;
  /** Mutations to draw from (null: all). */
  mutations: readonly Mutation[] | null;
  /** True once the frame or time budget is spent. */
  done(): boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One socket: counts what it receives, remembers the newest task and the Welcome. */
class Conn {
  readonly ws: WebSocket;
  closed = false;
  /** We ended it: its 1006 is ours, not a close the coordinator chose. */
  private ending = false;
  welcome: Inbound | null = null;
  lastError = '';
  readonly ctx: FrameContext;
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly env: FuzzEnv,
    joinToken: string,
  ) {
    const { stats } = env;
    stats.connections++;
    this.ctx = {
      seq: 0,
      round: 0,
      rows: 0,
      classes: env.classes,
      inputShape: env.inputShape,
      joinToken,
      maxFrameBytes: PRE_AUTH_MAX_FRAME_BYTES,
    };
    this.ws = new WebSocket(env.wsUrl, { perMessageDeflate: false });
    this.ws.on('unexpected-response', (_req, res) => {
      stats.count(stats.refused, `HTTP ${res.statusCode}`);
      res.resume();
      // Counted as refused, not as a 1006 close: no WebSocket ever opened.
      this.ending = true;
      this.ws.terminate();
    });
    this.ws.on('error', (err) => {
      if (this.ws.readyState === WebSocket.CONNECTING && !this.ending)
        stats.count(stats.refused, (err as NodeJS.ErrnoException).code ?? 'error');
    });
    this.ws.on('message', (data, isBinary) => {
      const m = readInbound(stats, data, isBinary);
      if (!m) return;
      if (m.body === 'welcome') {
        this.welcome = m;
        this.ctx.maxFrameBytes = m.maxFrameBytes || this.ctx.maxFrameBytes;
        this.ctx.round = Math.max(this.ctx.round, m.round ?? 0);
      } else if (m.body === 'task') {
        this.ctx.round = m.round ?? this.ctx.round;
        this.ctx.rows = m.rows ?? this.ctx.rows;
      } else if (m.body === 'error') this.lastError = m.errorCode ?? '';
      this.wake();
    });
    this.ws.on('close', (code) => {
      if (!this.ending && code) stats.count(stats.closes, String(code));
      this.closed = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when the socket is open (true) or failed (false). */
  opened(): Promise<boolean> {
    if (this.ws.readyState === WebSocket.OPEN) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
  }

  /** Waits for the next inbound message or the close, at most `ms`. */
  async settle(ms: number): Promise<void> {
    if (this.closed) return;
    await Promise.race([sleep(ms), new Promise<void>((r) => this.waiters.push(r))]);
  }

  send(frame: Frame): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    if (frame.fragments && typeof frame.data !== 'string') {
      const step = Math.max(1, Math.ceil(frame.data.byteLength / frame.fragments));
      for (let at = 0; at < frame.data.byteLength; at += step) {
        const last = at + step >= frame.data.byteLength;
        if (last && frame.unfinished) break;
        this.ws.send(frame.data.subarray(at, at + step), { binary: true, fin: last });
      }
    } else this.ws.send(frame.data, { binary: frame.binary });
    this.env.stats.sent(
      frame.kind,
      typeof frame.data === 'string' ? frame.data.length : frame.data.byteLength,
    );
    return true;
  }

  next(): Frame {
    this.ctx.seq++;
    return buildFrame(this.env.rng, this.ctx, pickMutation(this.env.rng, this.env.mutations));
  }

  close(): void {
    this.ending = true;
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)
      this.ws.terminate();
  }
}

/** Unauthenticated sockets: 1–4 mutated frames each (most are fatal), with a made-up token. */
export async function preAuthWorker(env: FuzzEnv): Promise<void> {
  while (!env.done()) {
    const c = new Conn(env, `fuzz-${env.rng.int(1e9).toString(36)}`);
    if (await c.opened()) {
      const n = 1 + env.rng.int(4);
      for (let i = 0; i < n && !c.closed && !env.done(); i++) {
        c.send(c.next());
        await c.settle(20);
      }
      await c.settle(50);
    }
    c.close();
  }
}

/** A participant of its own (joined once, then resumed) sending mutated frames from a session. */
export async function postAuthWorker(env: FuzzEnv): Promise<void> {
  let resumeToken = '';
  while (!env.done()) {
    const c = new Conn(env, env.joinToken);
    if (!(await c.opened())) {
      await sleep(50);
      continue;
    }
    c.ctx.seq++;
    const hello = {
      kind: 'valid/hello',
      binary: true,
      data: helloBytes(c.ctx, resumeToken),
    };
    c.send(hello);
    for (let i = 0; i < 50 && !c.welcome && !c.closed; i++) await c.settle(100);
    if (!c.welcome) {
      if (c.lastError === 'BAD_TOKEN') resumeToken = '';
      c.close();
      await sleep(50);
      continue;
    }
    resumeToken = c.welcome.resumeToken || resumeToken;
    // A session's worth of frames, a few ms apart (bursts past the rate limit happen too).
    const n = 5 + env.rng.int(60);
    for (let i = 0; i < n && !c.closed && !env.done(); i++) {
      c.send(c.next());
      await c.settle(env.rng.next() < 0.1 ? 0 : 2 + env.rng.int(15));
    }
    await c.settle(100);
    c.close();
  }
}

/** A valid Hello: the join token, or a resume token when there is one. */
function helloBytes(ctx: FrameContext, resumeToken: string): Uint8Array {
  return encodeEnvelope({
    seq: ctx.seq,
    hello: {
      protocolVersion: 1,
      ...(resumeToken ? { resumeToken } : { joinToken: ctx.joinToken }),
      name: 'fuzz',
      kind: 1,
      inputShape: ctx.inputShape,
      numClasses: ctx.classes,
      supportedEncodings: [3, 2, 1],
      supportedCompressions: [1],
      clientVersion: 'fuzz',
    },
  });
}

/** Many sockets at once, past the per-address cap on unauthenticated sockets; held briefly. */
export async function connectionFlood(env: FuzzEnv, count: number): Promise<void> {
  const conns = Array.from({ length: count }, () => new Conn(env, 'flood'));
  await Promise.all(conns.map((c) => Promise.race([c.opened(), sleep(3000)])));
  await sleep(200 + env.rng.int(500));
  for (const c of conns) c.close();
}

/** One socket sending `count` Hellos (bad token) as fast as it can. */
export async function helloFlood(env: FuzzEnv, count: number): Promise<void> {
  const c = new Conn(env, `flood-${env.rng.int(1e9)}`);
  if (await c.opened()) {
    for (let i = 0; i < count && !c.closed; i++) {
      c.ctx.seq++;
      c.send({ kind: 'flood/hello', binary: true, data: helloBytes(c.ctx, '') });
    }
    await c.settle(200);
  }
  c.close();
}

/** An admitted participant sending `count` heartbeats and task requests in one burst. */
export async function messageFlood(env: FuzzEnv, count: number): Promise<void> {
  const c = new Conn(env, env.joinToken);
  if (!(await c.opened())) return;
  c.ctx.seq++;
  c.send({ kind: 'valid/hello', binary: true, data: helloBytes(c.ctx, '') });
  for (let i = 0; i < 30 && !c.welcome && !c.closed; i++) await c.settle(100);
  for (let i = 0; i < count && !c.closed; i++) {
    c.ctx.seq++;
    const body = i % 2 ? { heartbeat: { unixMs: Date.now() } } : { taskRequest: { lastRound: 0 } };
    c.send({ kind: 'flood/message', binary: true, data: encodeEnvelope({ seq: c.ctx.seq, ...body }) });
  }
  await c.settle(300);
  c.close();
}
