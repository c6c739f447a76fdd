/**
 * Reads a participant's --metrics-out file while the participant appends to it: each poll
 * returns the complete lines added since the last one (a half-written last line waits for
 * the next poll). A file that does not exist yet is simply empty.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { GlobalLine, RoundRecord } from './types.ts';

const NUMERIC: (keyof RoundRecord)[] = ['round', 'testAccuracy', 't'];

/** An `"event": "global"` line, or an error saying what is wrong with it. */
function parseGlobal(o: Record<string, unknown>, line: string): GlobalLine | Error {
  for (const k of ['globalRound', 'globalTestAccuracy', 't'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) {
      return new Error(`"${k}" is missing or not a number: ${line.slice(0, 200)}`);
    }
  }
  return {
    globalRound: o.globalRound as number,
    participant: typeof o.participant === 'string' ? o.participant : String(o.participant ?? ''),
    globalTestAccuracy: o.globalTestAccuracy as number,
    t: o.t as number,
  };
}

/** One metrics-out line (a round, or a global scoring), or an error saying what is wrong with it. */
export function parseLine(line: string): RoundRecord | GlobalLine | Error {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return new Error(`not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof v === 'object' && v !== null && (v as { event?: unknown }).event === 'global') {
    return parseGlobal(v as Record<string, unknown>, line);
  }
  return parseRecord(line);
}

/** One metrics-out round line, or an error saying what is wrong with it. */
export function parseRecord(line: string): RoundRecord | Error {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return new Error(`not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof v !== 'object' || v === null) return new Error(`not an object: ${line.slice(0, 200)}`);
  const o = v as Record<string, unknown>;
  for (const k of NUMERIC) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k])) {
      return new Error(`"${k}" is missing or not a number: ${line.slice(0, 200)}`);
    }
  }
  const n = (k: string) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : 0);
  return {
    round: o.round as number,
    participant: typeof o.participant === 'string' ? o.participant : String(o.participant ?? ''),
    trainLoss: n('trainLoss'),
    trainAccuracy: n('trainAccuracy'),
    valAccuracy: n('valAccuracy'),
    testAccuracy: o.testAccuracy as number,
    bytesUp: n('bytesUp'),
    bytesDown: n('bytesDown'),
    staleness: n('staleness'),
    weight: n('weight'),
    trainMs: n('trainMs'),
    t: o.t as number,
  };
}

export class JsonlTail {
  private offset = 0;
  private pending = '';
  readonly records: RoundRecord[] = [];
  /** FedAvg's global scorings, in file order. */
  readonly globals: GlobalLine[] = [];
  readonly errors: string[] = [];

  constructor(readonly path: string) {}

  /** Reads what was appended; returns the new records (also kept in `records`). */
  poll(): RoundRecord[] {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    const chunks: Buffer[] = [];
    try {
      const size = fstatSync(fd).size;
      while (this.offset < size) {
        const buf = Buffer.allocUnsafe(Math.min(1 << 20, size - this.offset));
        const read = readSync(fd, buf, 0, buf.length, this.offset);
        if (read === 0) break;
        chunks.push(buf.subarray(0, read));
        this.offset += read;
      }
    } finally {
      closeSync(fd);
    }
    if (chunks.length === 0) return [];
    const lines = (this.pending + Buffer.concat(chunks).toString('utf8')).split('\n');
    this.pending = lines.pop()!;
    const fresh: RoundRecord[] = [];
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.keep(parseLine(line), fresh);
    }
    this.records.push(...fresh);
    return fresh;
  }

  /** Final read once the writer has exited: a last line without a newline counts too. */
  finish(): RoundRecord[] {
    const fresh = this.poll();
    if (this.pending.trim() !== '') {
      const r = parseLine(this.pending);
      this.pending = '';
      const last: RoundRecord[] = [];
      this.keep(r, last);
      fresh.push(...last);
      this.records.push(...last);
    }
    return fresh;
  }

  private keep(r: RoundRecord | GlobalLine | Error, fresh: RoundRecord[]): void {
    if (r instanceof Error) this.errors.push(`${this.path}: ${r.message}`);
    else if ('globalRound' in r) this.globals.push(r);
    else fresh.push(r as RoundRecord);
  }
}
