/**
 * What the browser tests and the web benchmark share: building the client, launching
 * Debian's Chromium through playwright-core (the flags CI needs: no sandbox as root, no
 * GPU, no background traffic, a fresh profile), and Node participants that speak the
 * protocol (server/test/test-client.ts) and keep contributing until stopped.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { TestClient } from '../../server/test/test-client.ts';

export const CHROMIUM = process.env.MUTUA_CHROMIUM ?? '/usr/bin/chromium';
export const CLIENT_WEB = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(CLIENT_WEB, 'dist');
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set MUTUA_CHROMIUM)`;
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  const index = join(DIST, 'index.html');
  if (!existsSync(index)) return false;
  const sources = Math.max(
    await newestMtime(join(CLIENT_WEB, 'src')),
    ...['index.html', 'join.html', 'bench.html', 'vite.config.ts'].map(
      (f) => statSync(join(CLIENT_WEB, f)).mtimeMs,
    ),
    // The pages bundle core and proto code too (the demo-shard codec, enums).
    await newestMtime(fileURLToPath(new URL('../../core/src', import.meta.url))),
    await newestMtime(fileURLToPath(new URL('../../proto/src', import.meta.url))),
  );
  return statSync(index).mtimeMs > sources;
}

/**
 * Builds client-web/dist with vite unless it is newer than every source file. Test files
 * may run in parallel: a lock directory makes one build while the others wait, then find
 * the build fresh (a build empties dist/, which would break a page another test serves).
 */
export async function ensureBuilt(): Promise<void> {
  if (await isFresh()) return;
  // In the temp dir (not the repository), one per checkout.
  const lock = join(
    tmpdir(),
    `mutua-web-build-${createHash('sha256').update(CLIENT_WEB).digest('hex').slice(0, 12)}.lock`,
  );
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Someone else is building; a lock older than 5 minutes is from a crashed run.
      const held = statSync(lock, { throwIfNoEntry: false });
      if ((held && Date.now() - held.mtimeMs > 5 * 60_000) || Date.now() > deadline) {
        rmSync(lock, { recursive: true, force: true });
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (await isFresh()) return;
    const { build } = await import('vite');
    await build({ configFile: join(CLIENT_WEB, 'vite.config.ts'), logLevel: 'error' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile (IndexedDB survives reloads within it). */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'mutua-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
    viewport: { width: 1200, height: 900 },
  });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * A Node participant that uploads predictions for every task it gets until stop(): the
 * protocol-level TestClient, so these tests depend on nothing but the coordinator.
 * `label` biases its predictions toward one class (peers that disagree a little).
 */
export class NodePeer {
  readonly rounds: number[] = [];
  private stopped = false;
  private loop: Promise<void> | null = null;
  private constructor(readonly client: TestClient) {}

  static async join(wsUrl: string, joinToken: string, name: string): Promise<NodePeer> {
    const client = await TestClient.join(wsUrl, { joinToken, name, kind: 1, modelArch: 'mlp' });
    return new NodePeer(client);
  }

  get participantId(): string {
    return this.client.welcome?.participantId ?? '';
  }

  start(label: number): void {
    this.loop = (async () => {
      let from = 1;
      while (!this.stopped) {
        const t = await this.client.validTask(from, 600_000);
        if (this.stopped) return;
        const rows = t.predictIndices.length;
        const reply = await this.client.reply(
          this.client.upload(t.round, rows, { probs: softPredictions(rows, label) }),
        );
        if (reply.body === 'ack') this.rounds.push(t.round);
        from = t.round + 1;
      }
    })().catch(() => undefined); // the connection closed (stop(), or the coordinator shut down)
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.client.close();
    await this.loop;
  }
}

/**
 * Predictions that barely lean toward `label`: peers without a real model should not drag
 * the browser's model toward one class through the consensus.
 */
export function softPredictions(rows: number, label: number, classes = 10): Float32Array {
  const p = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) {
    const row = p.subarray(r * classes, (r + 1) * classes);
    row.fill((1 - 0.19) / (classes - 1));
    row[label] = 0.19;
  }
  return p;
}

/** Resolves when `check` returns a truthy value, polling the browser state it reads (no fixed sleeps). */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}
