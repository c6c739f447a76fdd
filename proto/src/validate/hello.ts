/** The first message of a connection: Hello, checked before any lookup. */
import { compressionName, encodingName, supportedWeightEncodings } from '../enums.ts';
import { ProtocolError } from '../errors.ts';
import { mutua } from '../gen/mutua.js';
import type { CompressionName, PredictionEncoding, WeightEncoding } from '../prediction-codec.ts';
import { err, ok, type Validated } from './common.ts';

export interface HelloInfo {
  token: { kind: 'join' | 'resume'; value: string };
  name: string;
  kind: mutua.v1.ParticipantKind;
  modelArch: string;
  inputShape: number[];
  numClasses: number;
  /**
   * The prediction encodings the participant supports, in its order, duplicates and values this
   * build does not know removed; [] means "float32 only" (see negotiateEncoding).
   */
  encodings: PredictionEncoding[];
  /** Payload compressions it can both apply and undo, unknown values dropped ('none' is implied). */
  compressions: CompressionName[];
  /** fedavg: the weight encodings it can use (supportedWeightEncodings). */
  weightEncodings: WeightEncoding[];
  clientVersion: string;
  modelSignature: string;
}

/** C0/C1 control characters (NUL included) and unpaired UTF-16 surrogates. */
export const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;

/**
 * Whether `s` is text a person can read and every database can store: no control
 * characters (PostgreSQL refuses NUL in text) and no unpaired surrogates (not encodable as
 * UTF-8). Used for Hello's strings and, as a schema pattern, for names in the REST API.
 */
export function isPrintableText(s: string): boolean {
  return !UNPRINTABLE.test(s);
}

/** Longest token accepted; real tokens are far shorter, and anything longer is not worth hashing. */
export const MAX_TOKEN_LENGTH = 512;
export const MAX_INPUT_ELEMENTS = 2 ** 24;

/**
 * The first message of a connection, before any lookup: protocol version 1, exactly one of
 * join_token / resume_token, a plausible model description. Whether the token exists and the
 * model matches the federation is the coordinator's next step. All failures are fatal.
 *
 * Unknown `supported_encodings` values are dropped rather than rejected: enums are open, and a
 * newer client that also offers an encoding this coordinator lacks must still be able to join.
 */
export function validateHello(msg: mutua.v1.Hello.$Properties): Validated<HelloInfo> {
  const version = msg.protocolVersion ?? 0;
  if (version !== mutua.v1.ProtocolVersion.PROTOCOL_VERSION_1) {
    return err(
      new ProtocolError(
        'UNSUPPORTED_PROTOCOL',
        `protocol_version ${version} is not supported; this peer speaks PROTOCOL_VERSION_1 (1)`,
      ),
    );
  }
  const join = msg.joinToken ?? '';
  const resume = msg.resumeToken ?? '';
  if ((join === '') === (resume === '')) {
    return err(
      new ProtocolError('BAD_TOKEN', 'Hello must carry exactly one of join_token and resume_token', {
        detail: join === '' ? 'TOKEN_MISSING' : 'TOKEN_BOTH',
      }),
    );
  }
  const value = join || resume;
  if (value.length > MAX_TOKEN_LENGTH) {
    return err(
      new ProtocolError('BAD_TOKEN', `the token is longer than ${MAX_TOKEN_LENGTH} characters`, {
        detail: 'TOKEN_TOO_LONG',
      }),
    );
  }
  const texts = {
    token: value,
    name: msg.name ?? '',
    model_arch: msg.modelArch ?? '',
    client_version: msg.clientVersion ?? '',
    model_signature: msg.modelSignature ?? '',
  };
  for (const [field, text] of Object.entries(texts)) {
    if (!isPrintableText(text)) {
      return err(
        new ProtocolError('BAD_TEXT', `Hello.${field} holds a control character or an unpaired surrogate`, {
          detail: field.toUpperCase(),
        }),
      );
    }
  }
  const inputShape = [...(msg.inputShape ?? [])];
  const elements = inputShape.reduce((a, b) => a * b, 1);
  if (inputShape.length === 0 || inputShape.some((d) => !(d >= 1)) || elements > MAX_INPUT_ELEMENTS) {
    return err(
      new ProtocolError(
        'MODEL_MISMATCH',
        `input_shape [${inputShape.join(', ')}] must be non-empty positive integers (at most ${MAX_INPUT_ELEMENTS} values)`,
        { detail: 'INPUT_SHAPE' },
      ),
    );
  }
  const numClasses = msg.numClasses ?? 0;
  if (numClasses < 2) {
    return err(
      new ProtocolError('MODEL_MISMATCH', `num_classes must be at least 2, got ${numClasses}`, {
        detail: 'NUM_CLASSES',
      }),
    );
  }
  const encodings: PredictionEncoding[] = [];
  for (const v of msg.supportedEncodings ?? []) {
    const name = encodingName(v);
    if (name !== undefined && !encodings.includes(name)) encodings.push(name);
  }
  const compressions: CompressionName[] = [];
  for (const v of msg.supportedCompressions ?? []) {
    const name = compressionName(v);
    if (name !== undefined && name !== 'none' && !compressions.includes(name)) compressions.push(name);
  }
  return ok({
    token: { kind: join ? 'join' : 'resume', value },
    name: msg.name ?? '',
    kind: msg.kind ?? mutua.v1.ParticipantKind.PARTICIPANT_KIND_UNSPECIFIED,
    modelArch: msg.modelArch ?? '',
    inputShape,
    numClasses,
    encodings,
    compressions,
    weightEncodings: supportedWeightEncodings(msg.supportedEncodings ?? []),
    clientVersion: msg.clientVersion ?? '',
    modelSignature: msg.modelSignature ?? '',
  });
}
