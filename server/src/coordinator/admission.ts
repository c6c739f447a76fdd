/**
 * Admission: a participant's Hello → a decision. Either a refusal (a coded ProtocolError)
 * or the participant admitted, with its (new or resumed) identity, its federation's
 * runtime and the negotiated encodings. Every refusal comes before a new participant is
 * registered: a client retrying with backoff while a federation is paused (or with the
 * wrong model) must not fill it up.
 */
import {
  type HelloInit,
  negotiateCompression,
  negotiateEncoding,
  negotiateTargetEncoding,
  negotiateWeightEncoding,
  ProtocolError,
  validateHello,
} from '@mutua/proto';
import type { FederationRecord, ParticipantRecord } from '../db/store.ts';
import { createToken, hashToken } from '../db/token-hash.ts';
import type { FederationRuntime } from '../engine/federation-runtime.ts';
import { heldTargets } from '../ws/delta-payloads.ts';
import type { Admission } from '../ws/participant-connection.ts';
import type { AdmissionBatcher } from './admission-batcher.ts';

export interface AdmissionDeps {
  /** The database work, batched with the Hellos that arrive at the same time. */
  db: AdmissionBatcher;
  runtime(federation: FederationRecord): Promise<FederationRuntime>;
}

/** Who the Hello's token names: an existing participant (resume) or a join token (new). */
type Identity =
  | {
      resumed: true;
      participant: ParticipantRecord;
      resumeToken: string;
      federation: FederationRecord | null;
    }
  | {
      resumed: false;
      joinTokenId: string;
      /** The join token's use limit (null: unlimited). */
      maxUses: number | null;
      federation: FederationRecord | null;
    };

export async function admit(hello: HelloInit, deps: AdmissionDeps): Promise<Admission | ProtocolError> {
  const valid = validateHello(hello);
  if (!valid.ok) return valid.error;
  const { db } = deps;
  const who = await identify(hello, db);
  if (who instanceof ProtocolError) return who;
  const federation = who.federation;
  if (!federation || federation.status === 'deleted') {
    return new ProtocolError('FEDERATION_NOT_FOUND', 'the federation of this token no longer exists');
  }
  if (federation.status === 'paused') {
    return new ProtocolError('FEDERATION_PAUSED', 'the federation is paused', { retryAfterMs: 30_000 });
  }
  const mismatch = checkModel(hello, federation);
  if (mismatch) return mismatch;
  const supported = valid.value.encodings;
  const upload = negotiateEncoding(federation.settings.encodings, supported);
  if (!upload) {
    return new ProtocolError(
      'ENCODING_NOT_ALLOWED',
      `the federation accepts ${federation.settings.encodings.join(', ')}; the participant supports ${supported.join(', ') || 'none'}`,
      { fatal: true },
    );
  }
  let participantId: string;
  let resumeToken: string;
  if (who.resumed) {
    participantId = who.participant.id;
    resumeToken = who.resumeToken;
    // Its lastSeenAt was set with the lookup (admission-batcher.ts); a new participant's is its creation.
  } else {
    const token = createToken();
    resumeToken = token.token;
    // Count and insert in one transaction (db-coordinator-store.ts): concurrent joins cannot overshoot.
    const created = await db.createParticipant(
      {
        federationId: federation.id,
        joinTokenId: who.joinTokenId,
        name: hello.name || 'participant',
        kind: kindName(hello.kind ?? 0),
        modelArch: hello.modelArch ?? '',
        resumeTokenHash: token.hash,
      },
      federation.settings.participantLimit,
      who.maxUses,
    );
    if (created === 'used-up') {
      return new ProtocolError('BAD_TOKEN', `this join token was already used ${who.maxUses} times`, {
        detail: 'TOKEN_USED_UP',
      });
    }
    if (created === 'full') {
      return new ProtocolError(
        'FEDERATION_FULL',
        `the federation admits ${federation.settings.participantLimit} participants`,
        { retryAfterMs: 60_000 },
      );
    }
    participantId = created.id;
  }
  const runtime = await deps.runtime(federation);
  return {
    participantId,
    resumeToken,
    resumed: who.resumed,
    federation,
    runtime,
    settings: federation.settings,
    uploadEncoding: upload,
    // Older federations' stored settings lack the payload-codec lists: [] keeps the old behaviour.
    downloadEncoding: negotiateTargetEncoding(federation.settings.targetEncodings ?? [], supported, upload),
    compression: negotiateCompression(federation.settings.compressions ?? [], valid.value.compressions),
    // fedavg: the federation's weight encoding, or the next more precise one this participant has.
    weightEncoding: negotiateWeightEncoding(federation.settings.weightEncoding, valid.value.weightEncodings),
    currentRound: runtime.currentVersion,
    // Active rows only for a participant that said it handles them; the others get full batches.
    activeRows: hello.supportsActiveRows ? federation.settings.activeRows : 0,
    // Deltas only with a participant that said it reads and writes them (PROTOCOL.md, "Delta payloads").
    delta:
      federation.settings.strategy === 'mutual' && (federation.settings.delta ?? false) && hello.supportsDelta
        ? {
            threshold: federation.settings.deltaThreshold ?? 0,
            // The Targets rows sent before, when the participant holds the same version.
            targets: heldTargets(
              runtime,
              participantId,
              federation.settings.task.numClasses,
              Number(hello.deltaTargetsVersion ?? 0),
            ),
          }
        : null,
    // Index lists left out where the batch rule gives them (PROTOCOL.md, "Derived indices").
    batchRule:
      federation.settings.strategy === 'mutual' && hello.supportsDerivedIndices
        ? {
            sampleCount: federation.publicSet.sampleCount,
            batchSize: federation.settings.batchSize,
            seed: federation.settings.seed,
          }
        : null,
  };
}

async function identify(hello: HelloInit, db: AdmissionBatcher): Promise<Identity | ProtocolError> {
  if (hello.resumeToken) {
    const found = await db.resume(hashToken(hello.resumeToken));
    if (!found) return new ProtocolError('BAD_TOKEN', 'unknown resume token; join again with a join token');
    const { participant: p, federation } = found;
    if (p.revoked) return new ProtocolError('TOKEN_REVOKED', 'this participant was removed by the operator');
    return { resumed: true, participant: p, resumeToken: hello.resumeToken, federation };
  }
  const found = await db.joinToken(hashToken(hello.joinToken ?? ''));
  if (!found) return new ProtocolError('BAD_TOKEN', 'unknown join token');
  const t = found.token;
  if (t.revoked) return new ProtocolError('TOKEN_REVOKED', 'this join token was revoked');
  return {
    resumed: false,
    joinTokenId: t.id,
    maxUses: t.maxUses,
    federation: found.federation,
  };
}

function checkModel(hello: HelloInit, f: FederationRecord): ProtocolError | null {
  const want = f.settings.task;
  const shape = hello.inputShape ?? [];
  // detail names the first thing that differs (PROTOCOL.md's detail table).
  const detail =
    shape.join('x') !== want.inputShape.join('x')
      ? 'INPUT_SHAPE'
      : hello.numClasses !== want.numClasses
        ? 'NUM_CLASSES'
        : null;
  if (detail) {
    return new ProtocolError(
      'MODEL_MISMATCH',
      `the federation's task is input ${want.inputShape.join('x')} with ${want.numClasses} classes; the participant has input ${shape.join('x')} with ${hello.numClasses} classes`,
      { detail },
    );
  }
  if (f.settings.strategy === 'fedavg' && hello.modelArch !== f.settings.modelArch) {
    return new ProtocolError(
      'MODEL_MISMATCH',
      `fedavg needs every participant to train ${f.settings.modelArch}, got ${hello.modelArch || 'none'}`,
      { detail: 'MODEL_ARCH' },
    );
  }
  return null;
}

function kindName(kind: number): string {
  return kind === 1 ? 'node' : kind === 2 ? 'browser' : 'other';
}
