/**
 * Per-field bounds the strict wire pass (wire-check.ts) enforces before protobufjs allocates
 * anything: how many elements a repeated field may carry (packed and unpacked occurrences
 * counted together) and how many bytes a string or bytes field may hold.
 *
 * Why: protobufjs allocates per element of a repeated field, so a frame the size limit lets
 * through (megabytes) could ask for millions of array slots — a Hello with 8 million
 * `input_shape` entries cost 6.5 s of coordinator CPU before any check ran. Bounding
 * counts in the pass that only walks bytes keeps decoding cost proportional to what a real
 * message needs. Participant-sent messages have tight bounds (they arrive from the
 * network); coordinator-sent ones generous bounds (a client still should not be made to
 * allocate without limit by a broken coordinator).
 *
 * Keys are field numbers of the generated wire schema. PROTOCOL.md ("Decoding rules")
 * lists the same numbers; a test holds the two together.
 */

export interface FieldLimit {
  /** Most elements of a repeated field (packed runs and unpacked occurrences together). */
  readonly maxElements?: number;
  /** Most bytes of one string or bytes value. */
  readonly maxBytes?: number;
}

/** Any string field without its own bound (e.g. Error.message). */
export const DEFAULT_MAX_STRING_BYTES = 64 * 1024;
/** Any repeated scalar field without its own bound (e.g. Task.predict_indices, a public batch). */
export const DEFAULT_MAX_ELEMENTS = 1 << 22;

/** Hello strings people choose (name, architecture, version): short, shown in lists. */
export const MAX_NAME_BYTES = 256;

export const WIRE_LIMITS: Readonly<Record<string, Readonly<Record<number, FieldLimit>>>> = {
  'mutua.v1.Hello': {
    2: { maxBytes: 512 }, // join_token (MAX_TOKEN_LENGTH)
    3: { maxBytes: 512 }, // resume_token
    4: { maxBytes: MAX_NAME_BYTES }, // name
    6: { maxBytes: MAX_NAME_BYTES }, // model_arch
    7: { maxElements: 8 }, // input_shape
    9: { maxElements: 64 }, // supported_encodings
    10: { maxBytes: MAX_NAME_BYTES }, // client_version
    11: { maxBytes: MAX_NAME_BYTES }, // model_signature
    12: { maxElements: 64 }, // supported_compressions
  },
  'mutua.v1.WeightsUpload': {
    6: { maxBytes: MAX_NAME_BYTES }, // model_signature
  },
  'mutua.v1.Leave': {
    1: { maxBytes: 1024 }, // reason
  },
  'mutua.v1.TaskSpec': {
    1: { maxElements: 8 }, // input_shape
    3: { maxElements: 65_536, maxBytes: MAX_NAME_BYTES }, // label_names
  },
  'mutua.v1.PublicSetDescriptor': {
    4: { maxElements: 8 }, // shape
  },
  'mutua.v1.FederationSettings': {
    10: { maxElements: 64 }, // encodings
    18: { maxElements: 64 }, // target_encodings
    19: { maxElements: 64 }, // compressions
  },
  'mutua.v1.Targets': {
    11: { maxElements: 256 }, // index_versions
  },
};
