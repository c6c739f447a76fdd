/**
 * --metrics-out: one JSON object per line per acknowledged round (or local-only round),
 * appended, so several runs of a participant (or a restart) extend one file. The experiment
 * harness reads these; the fields are a contract:
 *
 *   round         the round (sync) or consensus version (async) the upload was for
 *   participant   the coordinator's participant id (local-only: --name, else "local")
 *   name, shard   --name and the k of --shard k/N (null when not given)
 *   trainLoss, trainAccuracy, valAccuracy, distillLoss, samples
 *   testAccuracy  only with --eval-test: accuracy on the split's held-out test set, after
 *                 this round's local training (FedAvg: this participant's model, not the global one)
 *   globalTestAccuracy, globalRound   fedavg with --eval-test: the accuracy of the global
 *                 weights loaded for this round (the aggregate of round globalRound), scored
 *                 before local training; absent when no global weights came with the task
 *   bytesUp, bytesDown   WebSocket bytes this client sent/received so far in this run
 *                        (cumulative; local-only: 0)
 *   uploadBytes   the acknowledged upload's WebSocket frame (absent with --local-only)
 *   uploadRows    prediction rows it carried: the changed rows only with delta payloads
 *                 (absent for weights and with --local-only)
 *   staleness, weight    from the coordinator's Ack (local-only: 0 and 1)
 *   trainMs       wall time of the local training itself; waitMs the --slowdown wait after it
 *   targetsVersion  consensus version the training distilled toward (null: none yet)
 *   t             unix ms when the round was acknowledged
 *
 * fedavg with --eval-test also writes a line with "event": "global" whenever global weights
 * are scored (at the start of a task, and once more before leaving after --max-rounds, for
 * the aggregate of the last round): event, round (the task they were loaded for),
 * globalRound, participant, name, shard, globalTestAccuracy, bytesUp, bytesDown, t.
 * Readers that only want rounds skip lines that have an "event".
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface MetricsLine {
  round: number;
  participant: string;
  name: string | null;
  shard: number | null;
  trainLoss: number;
  trainAccuracy: number | null;
  valAccuracy: number | null;
  testAccuracy?: number;
  globalTestAccuracy?: number;
  globalRound?: number;
  distillLoss: number | null;
  samples: number;
  bytesUp: number;
  bytesDown: number;
  /** The acknowledged upload's frame, as it last travelled (absent: local-only). */
  uploadBytes?: number;
  /** Prediction rows it carried (fewer than the batch with delta payloads; absent for weights). */
  uploadRows?: number;
  staleness: number;
  weight: number;
  trainMs: number;
  waitMs: number;
  targetsVersion: number | null;
  t: number;
}

/** A global model scored (fedavg with --eval-test). */
export interface GlobalMetricsLine {
  event: 'global';
  round: number;
  globalRound: number;
  participant: string;
  name: string | null;
  shard: number | null;
  globalTestAccuracy: number;
  bytesUp: number;
  bytesDown: number;
  t: number;
}

export class MetricsLog {
  constructor(readonly path: string | undefined) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  /** Appends synchronously: a line is on disk before the next round starts or the process exits. */
  write(line: MetricsLine | GlobalMetricsLine): void {
    if (!this.path) return;
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}
