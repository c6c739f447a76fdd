/**
 * Legitimate participants, running through the fuzz: each joins with its own token,
 * answers every Task with a valid uint8 upload (no model: the coordinator only sees the
 * protocol), and counts the rounds it sees close. A dropped connection is resumed and
 * counted — an honest participant should never be dropped by someone else's fuzzing.
 */
import { encodeEnvelope } from '@mutua/proto';
import WebSocket from 'ws';
import { readInbound, Stats } from './stats.ts';

/** Time a legitimate participant takes between a Task and its upload. */
const TRAIN_MS = 200;

export interface LegitSummary {
  /** Distinct rounds any legitimate participant saw close (RoundClosed). */
  roundsClosed: number;
  acks: number;
  /** Errors the legitimate participants received, by code. */
  errors: Map<string, number>;
  /** Connections they lost and resumed. */
  reconnects: number;
}

export class LegitParticipants {
  private readonly stats = new Stats();
  private readonly closedRounds = new Set<number>();
  private acks = 0;
  private reconnects = 0;
  private stopped = false;
  private readonly sockets = new Set<WebSocket>();
  private readonly loops: Promise<void>[] = [];

  constructor(
    private readonly wsUrl: string,
    private readonly classes: number,
    private readonly inputShape: number[],
  ) {}

  start(tokens: string[]): void {
    for (const t of tokens) this.loops.push(this.run(t));
  }

  summary(): LegitSummary {
    return {
      roundsClosed: this.closedRounds.size,
      acks: this.acks,
      errors: this.stats.errors,
      reconnects: this.reconnects,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const ws of this.sockets) ws.close(1000);
    await Promise.all(this.loops);
  }

  private async run(joinToken: string): Promise<void> {
    let resumeToken = '';
    let first = true;
    while (!this.stopped) {
      if (!first) {
        this.reconnects++;
        await new Promise((r) => setTimeout(r, 200));
      }
      first = false;
      resumeToken = await this.session(joinToken, resumeToken);
    }
  }

  /** One connection, until it closes; returns the resume token to use next. */
  private session(joinToken: string, resumeToken: string): Promise<string> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.wsUrl, { perMessageDeflate: false });
      this.sockets.add(ws);
      let seq = 0;
      let token = resumeToken;
      ws.on('error', () => undefined);
      ws.on('open', () => {
        ws.send(
          encodeEnvelope({
            seq: ++seq,
            hello: {
              protocolVersion: 1,
              ...(token ? { resumeToken: token } : { joinToken }),
              name: 'legit',
              kind: 1,
              inputShape: this.inputShape,
              numClasses: this.classes,
              supportedEncodings: [3],
              clientVersion: 'fuzz-legit',
            },
          }),
        );
      });
      ws.on('message', (data, isBinary) => {
        const m = readInbound(this.stats, data, isBinary);
        if (!m) return;
        if (m.body === 'welcome') token = m.resumeToken || token;
        else if (m.body === 'ack') this.acks++;
        else if (m.body === 'roundClosed') this.closedRounds.add(m.round ?? 0);
        else if (m.body === 'error' && m.errorCode === 'BAD_TOKEN') token = '';
        else if (m.body === 'task') {
          // A moment of "training" before the upload, as a real participant takes.
          setTimeout(() => upload(m.round ?? 0, m.rows ?? 0), TRAIN_MS);
        }
      });
      const upload = (round: number, rows: number) => {
        if (ws.readyState !== WebSocket.OPEN) return;
        const payload = new Uint8Array(rows * this.classes);
        for (let r = 0; r < rows; r++) payload[r * this.classes + (r % this.classes)] = 255;
        const metrics = { trainLoss: 0.5, trainAccuracy: 0.8, samples: 100 };
        ws.send(
          encodeEnvelope({
            seq: ++seq,
            predictions: { round, encoding: 3, rows, classes: this.classes, payload, metrics },
          }),
        );
      };
      ws.on('close', () => {
        this.sockets.delete(ws);
        resolve(token);
      });
    });
  }
}
