/**
 * One load-generator process of the coordinator benchmark (bench-server.ts forks a few,
 * so that the load does not share an event loop with the coordinator or with each other).
 *
 * It opens `connections` protocol-level participants over real WebSockets, each with a
 * Hello carrying the join token; the first `submitters` of them then answer every Task
 * with a 512x10 uint8 PredictionUpload (no training) and time the Ack. The others only
 * hold their connection (ws answers the coordinator's pings) and ignore what they receive.
 *
 * Parent -> child messages: {type:'start'} (submitters begin), {type:'measure'} (reset the
 * window), {type:'stop'} (no new uploads; report), {type:'close'}.
 * Child -> parent: 'progress' every 500 ms, 'connected' once every connection has its
 * Welcome (or failed), 'report' after stop.
 */
import { decodeFrame, encodeEnvelope, encodePredictions } from '@mutua/proto';
import WebSocket from 'ws';

export interface LoadConfig {
  wsUrl: string;
  joinToken: string;
  /** Name prefix; participant names are `${prefix}-${i}`. */
  prefix: string;
  connections: number;
  submitters: number;
  /** Hellos in flight at once while connecting. */
  concurrency: number;
  /** Uniform random delay in [0, 2*thinkMs] between a Task and its upload. */
  thinkMs: number;
  /**
   * When set, a participant whose connection closes while the load runs reconnects with its
   * resume token after this delay (plus up to as much jitter), as mutua-client does when its
   * coordinator replica dies; retried until it is back or the load stops.
   */
  reconnectMs?: number;
}

export type ParentMessage =
  | { type: 'config'; config: LoadConfig }
  | { type: 'start' }
  | { type: 'measure' }
  | { type: 'stop' }
  | { type: 'close' }
  /** Drop every connection (as a coordinator restart would); reply 'dropped'. */
  | { type: 'drop' }
  /** Reconnect every participant at once with its resume token; reply 'resumed'. */
  | { type: 'resume'; timeoutMs: number };

export interface Progress {
  type: 'progress';
  connected: number;
  failed: number;
  open: number;
  acks: number;
  errors: number;
}

export interface Report {
  type: 'report';
  open: number;
  acks: number;
  duplicates: number;
  /** Ack latencies of uploads acknowledged inside the window, in ms. */
  latencies: number[];
  errors: Record<string, number>;
  tasks: number;
  bytesReceived: number;
  /** Participants back after their connection closed (cfg.reconnectMs). */
  reconnects: number;
}

export type ChildMessage =
  | Progress
  | { type: 'connected'; connected: number; failed: number; failures: Record<string, number> }
  | Report
  | { type: 'dropped' }
  | ResumeReport
  | { type: 'fatal'; message: string };

/** The reconnect storm: every participant's Hello with its resume token, all sent at once. */
export interface ResumeReport {
  type: 'resumed';
  resumed: number;
  failed: number;
  failures: Record<string, number>;
  /** From the first socket opened to the last Welcome (or failure), in ms. */
  elapsedMs: number;
  /** Socket open to Welcome, per resumed participant, in ms. */
  latencies: number[];
}

const CLASSES = 10;
const ROWS = 512;
/** Probabilities with most of the mass on one class, quantized once (every upload reuses them). */
function payloadFor(rows: number): Uint8Array {
  const p = new Float32Array(rows * CLASSES).fill(0.1 / (CLASSES - 1));
  for (let r = 0; r < rows; r++) p[r * CLASSES + (r % CLASSES)] = 0.9;
  return encodePredictions(p, rows, CLASSES, 'uint8');
}
const payloads = new Map<number, Uint8Array>([[ROWS, payloadFor(ROWS)]]);

const send = (m: ChildMessage) => process.send?.(m);

let cfg: LoadConfig;
let running = false;
let stopped = false;
let connected = 0;
let failed = 0;
const failures: Record<string, number> = {};
let acks = 0;
let duplicates = 0;
let errorCount = 0;
let tasks = 0;
let bytesReceived = 0;
let errors: Record<string, number> = {};
let latencies: number[] = [];
let sockets: WebSocket[] = [];
let submitters: Submitter[] = [];
/** Each participant's resume token, from its Welcome (by participant index). */
const resumeTokens: string[] = [];

class Submitter {
  /** Newest task round received and not yet uploaded. */
  private pendingRound = 0;
  private pendingRows = ROWS;
  private lastUploaded = 0;
  private inflightSeq = 0;
  private sentAt = 0;
  private seq = 1;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly ws: WebSocket) {}

  onFrame(data: Buffer): void {
    const r = decodeFrame(data, { maxFrameBytes: 1 << 30, isBinary: true });
    if (!r.ok) {
      count(errors, 'UNDECODABLE');
      return;
    }
    const env = r.envelope;
    switch (r.body) {
      case 'task': {
        tasks++;
        const round = Number(env.task!.round);
        if (round > this.lastUploaded && round > this.pendingRound) {
          this.pendingRound = round;
          this.pendingRows = env.task!.predictIndices?.length ?? ROWS;
        }
        this.maybeUpload();
        return;
      }
      case 'ack':
        if (env.replyTo !== this.inflightSeq) return;
        if (!stopped) {
          acks++;
          if (env.ack!.duplicate) duplicates++;
          latencies.push(performance.now() - this.sentAt);
        }
        this.inflightSeq = 0;
        this.maybeUpload();
        return;
      case 'error': {
        errorCount++;
        count(errors, String(env.error!.code));
        if (env.replyTo === this.inflightSeq && this.inflightSeq !== 0) {
          this.inflightSeq = 0;
          this.maybeUpload();
        }
        return;
      }
      default:
        return;
    }
  }

  maybeUpload(): void {
    if (!running || stopped || this.inflightSeq !== 0 || this.timer) return;
    if (this.pendingRound <= this.lastUploaded) return;
    if (cfg.thinkMs > 0) {
      this.timer = setTimeout(
        () => {
          this.timer = null;
          this.upload();
        },
        Math.random() * 2 * cfg.thinkMs,
      );
    } else {
      this.upload();
    }
  }

  private upload(): void {
    if (stopped || this.ws.readyState !== WebSocket.OPEN) return;
    const round = this.pendingRound;
    const rows = this.pendingRows;
    let payload = payloads.get(rows);
    if (!payload) {
      payload = payloadFor(rows);
      payloads.set(rows, payload);
    }
    const seq = ++this.seq;
    const frame = encodeEnvelope({
      seq,
      predictions: {
        round,
        encoding: 3,
        rows,
        classes: CLASSES,
        payload,
        metrics: { trainLoss: 0.5, trainAccuracy: 0.9, samples: 100 },
      },
    });
    this.lastUploaded = round;
    this.inflightSeq = seq;
    this.sentAt = performance.now();
    this.ws.send(frame);
  }
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function openCount(): number {
  let n = 0;
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) n++;
  return n;
}

/**
 * Opens one participant: resolves once its Welcome arrived (true) or it failed (false).
 * With `resumeToken` the Hello resumes that participant instead of joining; `latencies`
 * then receives the time from the socket's creation to its Welcome.
 */
function connectOne(
  i: number,
  opts: {
    resumeToken?: string;
    timeoutMs?: number;
    failures?: Record<string, number>;
    latencies?: number[];
  } = {},
): Promise<boolean> {
  return new Promise((resolve) => {
    const began = performance.now();
    const ws = new WebSocket(cfg.wsUrl, { perMessageDeflate: false });
    let settled = false;
    const done = (ok: boolean, why?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      if (!ok) {
        count(opts.failures ?? failures, why ?? 'unknown');
        ws.terminate();
      } else opts.latencies?.push(performance.now() - began);
      resolve(ok);
    };
    const timeout = setTimeout(() => done(false, 'timeout'), opts.timeoutMs ?? 60_000);
    ws.binaryType = 'nodebuffer';
    ws.on('error', (err) => done(false, (err as NodeJS.ErrnoException).code ?? err.message));
    ws.on('close', (code) => {
      if (settled) reconnectLater(i);
      else done(false, `close ${code}`);
    });
    ws.on('open', () => {
      const who = opts.resumeToken ? { resumeToken: opts.resumeToken } : { joinToken: cfg.joinToken };
      ws.send(
        encodeEnvelope({
          seq: 1,
          hello: {
            protocolVersion: 1,
            ...who,
            name: `${cfg.prefix}-${i}`,
            kind: 0,
            inputShape: [28, 28, 1],
            numClasses: CLASSES,
            supportedEncodings: [3],
            clientVersion: 'bench-server',
          },
        }),
      );
    });
    const submitter = i < cfg.submitters ? new Submitter(ws) : null;
    ws.on('message', (data: Buffer) => {
      bytesReceived += data.length;
      if (!settled) {
        const r = decodeFrame(data, { maxFrameBytes: 1 << 30, isBinary: true });
        if (r.ok && r.body === 'welcome') {
          resumeTokens[i] = r.envelope.welcome!.resumeToken ?? '';
          sockets.push(ws);
          if (submitter) submitters.push(submitter);
          done(true);
        } else if (r.ok && r.body === 'error') {
          done(false, `error ${r.envelope.error!.code}`);
        }
        return;
      }
      // Idle participants only hold the connection; submitters answer tasks.
      submitter?.onFrame(data);
    });
  });
}

let reconnects = 0;

/** An established participant lost its connection: back with its resume token (cfg.reconnectMs). */
function reconnectLater(i: number): void {
  const base = cfg.reconnectMs;
  if (base === undefined || !running || stopped || !resumeTokens[i]) return;
  setTimeout(
    async () => {
      if (!running || stopped) return;
      if (await connectOne(i, { resumeToken: resumeTokens[i], timeoutMs: 10_000 })) reconnects++;
      else reconnectLater(i);
    },
    base * (1 + Math.random()),
  );
}

/** Every participant that has a resume token reconnects at once (a storm after a restart). */
async function resumeAll(timeoutMs: number): Promise<ResumeReport> {
  const storm: ResumeReport = {
    type: 'resumed',
    resumed: 0,
    failed: 0,
    failures: {},
    elapsedMs: 0,
    latencies: [],
  };
  const began = performance.now();
  await Promise.all(
    resumeTokens.map(async (resumeToken, i) => {
      if (!resumeToken) return;
      const ok = await connectOne(i, {
        resumeToken,
        timeoutMs,
        failures: storm.failures,
        latencies: storm.latencies,
      });
      if (ok) storm.resumed++;
      else storm.failed++;
    }),
  );
  storm.elapsedMs = performance.now() - began;
  return storm;
}

async function connectAll(): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < cfg.connections) {
      const i = next++;
      if (await connectOne(i)) connected++;
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency, cfg.connections) }, lane));
}

const progress = setInterval(() => {
  send({ type: 'progress', connected, failed, open: openCount(), acks, errors: errorCount });
}, 500);

process.on('message', (m: ParentMessage) => {
  switch (m.type) {
    case 'config':
      cfg = m.config;
      connectAll().then(
        () => send({ type: 'connected', connected, failed, failures }),
        (e: unknown) => send({ type: 'fatal', message: String(e) }),
      );
      return;
    case 'start':
      running = true;
      for (const s of submitters) s.maybeUpload();
      return;
    case 'measure':
      acks = 0;
      duplicates = 0;
      errorCount = 0;
      tasks = 0;
      bytesReceived = 0;
      errors = {};
      latencies = [];
      return;
    case 'stop':
      stopped = true;
      send({
        type: 'report',
        open: openCount(),
        acks,
        duplicates,
        latencies,
        errors,
        tasks,
        bytesReceived,
        reconnects,
      });
      return;
    case 'drop':
      for (const ws of sockets) ws.terminate();
      sockets = [];
      submitters = [];
      send({ type: 'dropped' });
      return;
    case 'resume':
      resumeAll(m.timeoutMs).then(send, (e: unknown) => send({ type: 'fatal', message: String(e) }));
      return;
    case 'close':
      stopped = true;
      clearInterval(progress);
      for (const ws of sockets) ws.terminate();
      setTimeout(() => process.exit(0), 100).unref();
      return;
  }
});
// Never outlive the benchmark.
process.on('disconnect', () => process.exit(0));
