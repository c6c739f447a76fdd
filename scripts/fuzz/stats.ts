/** What the fuzzer counts, and the coded Errors and closes a connection receives. */
import { decodeFrame, ErrorCode } from '@mutua/proto';
import type WebSocket from 'ws';

export class Stats {
  frames = 0;
  bytes = 0;
  connections = 0;
  /** Upgrades the coordinator refused (HTTP status, e.g. 503 from a connection cap) or failed to open. */
  readonly refused = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly closes = new Map<string, number>();
  readonly kinds = new Map<string, number>();
  /** Frames the coordinator sent that the protocol codec could not decode. */
  undecodable = 0;

  count(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  sent(kind: string, size: number): void {
    this.frames++;
    this.bytes += size;
    this.count(this.kinds, kind.split('/')[0]!);
  }

  /** Errors with code INTERNAL any connection received. */
  get internal(): number {
    return this.errors.get('INTERNAL') ?? 0;
  }
}

export interface Inbound {
  body: string;
  round?: number;
  rows?: number;
  maxFrameBytes?: number;
  resumeToken?: string;
  errorCode?: string;
}

/** Decodes a coordinator frame, counting its Error code; null when undecodable. */
export function readInbound(stats: Stats, data: WebSocket.RawData, isBinary: boolean): Inbound | null {
  const r = decodeFrame(data as Buffer, { maxFrameBytes: 1 << 30, isBinary });
  if (!r.ok) {
    stats.undecodable++;
    return null;
  }
  const env = r.envelope;
  switch (r.body) {
    case 'error': {
      const code = ErrorCode[env.error!.code ?? 0] ?? String(env.error!.code);
      stats.count(stats.errors, code);
      return { body: 'error', errorCode: code };
    }
    case 'task':
      return {
        body: 'task',
        round: Number(env.task!.round ?? 0),
        rows: env.task!.predictIndices?.length ?? 0,
      };
    case 'welcome':
      return {
        body: 'welcome',
        maxFrameBytes: env.welcome!.maxFrameBytes ?? 0,
        resumeToken: env.welcome!.resumeToken ?? '',
        round: Number(env.welcome!.currentRound ?? 0),
      };
    case 'roundClosed':
      return { body: 'roundClosed', round: Number(env.roundClosed!.round ?? 0) };
    default:
      return { body: r.body };
  }
}

/** Percentile of an unsorted sample (nearest rank); NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
