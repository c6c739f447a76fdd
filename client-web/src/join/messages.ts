/**
 * What the join page and its training worker say to each other. The page owns the UI and
 * the person's choices; the worker owns TensorFlow.js, the ParticipantSession and the
 * IndexedDB writes, so a training step never blocks the page.
 */
import type { ModelArch } from '@mutua/core/models';

export type ArchChoice = ModelArch | 'auto';

/** Private data as the page hands it over (File objects are structured-cloneable). */
export type DataChoice =
  | { kind: 'demo'; samples: number }
  | { kind: 'images'; files: File[] }
  | { kind: 'csv'; file: File }
  /** The data set kept in IndexedDB from an earlier visit (resume after a refresh). */
  | { kind: 'stored' };

export interface TaskInfo {
  inputShape: number[];
  numClasses: number;
  labelNames: string[];
}

export interface StartCommand {
  type: 'start';
  /** The coordinator's WebSocket endpoint, e.g. ws://host/v1/ws. */
  wsUrl: string;
  /** The coordinator's HTTP origin, for the public set and the demo shard. */
  origin: string;
  joinToken: string;
  /** IndexedDB key of this participant (one per coordinator and join link). */
  storageKey: string;
  task: TaskInfo;
  /** fedavg federations fix the architecture; '' = free choice. */
  requiredArch: string;
  arch: ArchChoice;
  data: DataChoice;
  /** Device facts the page can see (the worker picks the model with them). */
  device: { cores: number; memoryGb: number | null };
  name: string;
}

export type PageToWorker = StartCommand | { type: 'stop'; reason?: string };

export interface BackendReport {
  /** tfjs backend name: webgl | wasm | cpu. */
  name: string;
  /** Why this one, in words for the page. */
  reason: string;
  threads?: number;
  simd?: boolean;
  /** The WebGL renderer string, when one was found. */
  renderer?: string;
}

export interface DataReport {
  source: string;
  train: number;
  validation: number;
  /** Samples per class in the training part. */
  perClass: number[];
}

export interface ErrorReport {
  code: string;
  message: string;
  fatal: boolean;
  /** Where it happened: data preparation, the backend, or the federation session. */
  stage: 'data' | 'backend' | 'model' | 'session';
  retryInMs?: number;
}

export type WorkerToPage =
  | { type: 'backend'; backend: BackendReport }
  | { type: 'data'; data: DataReport }
  | { type: 'model'; arch: ModelArch; params: number; reason: string; restored: boolean }
  | { type: 'state'; state: string }
  | {
      type: 'welcome';
      participantId: string;
      resumed: boolean;
      round: number;
      mode: string;
      /** What the Welcome negotiated for prediction payloads, e.g. "soft2 + deflate-raw + delta + derived indices". */
      payload: string;
    }
  | { type: 'task'; round: number; localEpochs: number; targetsVersion: number | null; contributors: number }
  | {
      type: 'progress';
      round: number;
      epoch: number;
      epochs: number;
      batch: number;
      batches: number;
      loss: number;
      /** Samples trained so far in this epoch, over `seconds` since the epoch began (the page
       * computes the rate, and ignores it over too short an interval). */
      samples: number;
      seconds: number;
    }
  | {
      type: 'uploaded';
      round: number;
      staleness: number;
      weight: number;
      duplicate: boolean;
      bytesUp: number;
      bytesDown: number;
      /** The upload's frame and the prediction rows it carried (fewer with deltas). */
      uploadBytes: number;
      uploadRows: number | null;
      trainLoss: number;
      trainAccuracy: number | null;
      valAccuracy: number | null;
      trainMs: number;
      samples: number;
    }
  | { type: 'round-closed'; round: number; submissions: number; reason: string }
  | { type: 'error'; error: ErrorReport }
  | { type: 'reconnecting'; attempt: number; delayMs: number; error: ErrorReport }
  | { type: 'closed'; error?: ErrorReport };
