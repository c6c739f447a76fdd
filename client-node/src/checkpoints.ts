/**
 * The checkpoint directory: everything a restarted client needs to carry on as the same
 * participant with the same model.
 *
 *   <dir>/model/model.json, weights.bin   the model after the last acknowledged round (TF.js layers format)
 *   <dir>/checkpoint.json                 what the model is (arch, shapes) and where it stopped
 *   <dir>/resume-token.json               resume tokens (file-token-storage.ts, mode 0600)
 *
 * The optimizer's moments are not saved: after a restart Adam starts afresh, which costs a
 * few steps of warm-up, not accuracy.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { loadModelDir, saveModelDir, snapshotArtifacts } from './model-files.ts';

export interface CheckpointState {
  arch: string;
  inputShape: number[];
  numClasses: number;
  /** Last acknowledged round (or local-only round). */
  round: number;
  /** Rounds acknowledged (or trained, local-only) over every run with this checkpoint. */
  roundsDone: number;
  participantId?: string;
  federationId?: string;
  savedAt: string;
}

export class CheckpointStore {
  readonly modelDir: string;
  readonly statePath: string;
  readonly tokenPath: string;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;

  constructor(readonly dir: string) {
    this.modelDir = join(dir, 'model');
    this.statePath = join(dir, 'checkpoint.json');
    this.tokenPath = join(dir, 'resume-token.json');
  }

  /**
   * Saves the model as it is now (its weights are copied before this returns) and the state;
   * writes are queued, so saves land in call order. Resolves when this one is written.
   */
  save(model: tf.LayersModel, state: Omit<CheckpointState, 'savedAt'>): Promise<void> {
    const artifacts = snapshotArtifacts(model, { ...state });
    const write = async () => {
      await mkdir(this.dir, { recursive: true });
      await saveModelDir(this.modelDir, await artifacts);
      const tmp = `${this.statePath}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify({ ...state, savedAt: new Date().toISOString() }, null, 2)}\n`);
      await rename(tmp, this.statePath);
    };
    const done = this.chain.then(write);
    this.chain = done.catch((err: unknown) => {
      this.failure ??= err;
    });
    return done;
  }

  /** Waits for queued saves; rejects with the first failure, if any. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.failure) throw this.failure;
  }

  async readState(): Promise<CheckpointState | null> {
    try {
      return JSON.parse(await readFile(this.statePath, 'utf8')) as CheckpointState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the checkpoint ${this.statePath}: ${(err as Error).message}`);
    }
  }

  /** The saved model, or null if none. A crash mid-swap leaves it in model.old: used then. */
  async loadModel(): Promise<tf.LayersModel | null> {
    for (const dir of [this.modelDir, `${this.modelDir}.old`]) {
      try {
        await stat(join(dir, 'model.json'));
      } catch {
        continue;
      }
      return loadModelDir(dir);
    }
    return null;
  }
}
