/**
 * Federation settings over REST: what a create request may set (every field optional,
 * unknown ones refused) and what the coordinator answers with (the resolved settings).
 * Cross-field rules (fedavg needs sync and a modelArch, labelNames fit numClasses …) are
 * not expressible here: the coordinator checks them and answers MUTUA_ERR_BAD_SETTINGS.
 */
import { type Static, Type } from '@sinclair/typebox';
import { AGGREGATION_NAMES, ENCODING_NAMES, MODE_NAMES, STRATEGY_NAMES } from '../enums.ts';
import { COMPRESSION_NAMES } from '../payload/compression.ts';
import { PrintableText, StringEnum } from './schema.ts';

const strict = { additionalProperties: false } as const;

/** The settings a create request may give; unset ones take their defaults. */
export const SettingsInput = Type.Object(
  {
    task: Type.Optional(
      Type.Object(
        {
          inputShape: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 4 })),
          numClasses: Type.Optional(Type.Integer({ minimum: 2, maximum: 65536 })),
          labelNames: Type.Optional(Type.Array(PrintableText({ maxLength: 200 }))),
        },
        strict,
      ),
    ),
    strategy: Type.Optional(
      StringEnum(STRATEGY_NAMES, { description: 'mutual distillation (default) or the FedAvg baseline' }),
    ),
    mode: Type.Optional(StringEnum(MODE_NAMES)),
    temperature: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'distillation temperature T' }),
    ),
    lambda: Type.Optional(Type.Number({ minimum: 0, description: 'weight of the mutual KL term' })),
    aggregation: Type.Optional(StringEnum(AGGREGATION_NAMES)),
    trimFraction: Type.Optional(Type.Number({ minimum: 0, exclusiveMaximum: 0.5 })),
    eraTemperature: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    batchSize: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 100000, description: 'public samples per task' }),
    ),
    activeRows: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100000,
        description:
          'mutual: of each batch, the rows chosen where the consensus is least certain (plus 1/8 at random), sent to participants that support it; 0 = off (PROTOCOL.md, "Active rows")',
      }),
    ),
    encodings: Type.Optional(
      Type.Array(StringEnum(ENCODING_NAMES), {
        minItems: 1,
        uniqueItems: true,
        description: 'accepted upload encodings, preferred first',
      }),
    ),
    targetEncodings: Type.Optional(
      Type.Array(StringEnum(ENCODING_NAMES), {
        uniqueItems: true,
        description:
          'Targets encodings, preferred first: each participant gets the first it supports, else its upload encoding ([] = the upload encoding)',
      }),
    ),
    compressions: Type.Optional(
      Type.Array(StringEnum(COMPRESSION_NAMES), {
        uniqueItems: true,
        description:
          'prediction payload compressions, preferred first: each participant gets the first it supports, else none ([] = none)',
      }),
    ),
    delta: Type.Optional(
      Type.Boolean({
        description:
          'prediction payloads travel as deltas against the rows the receiver already holds, with participants that support it (PROTOCOL.md, "Delta payloads")',
      }),
    ),
    deltaThreshold: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          'delta: a row is resent when one of its decoded probabilities moved more than this (0 = any change)',
      }),
    ),
    topk: Type.Optional(Type.Integer({ minimum: 1 })),
    minParticipants: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 100000,
        description:
          'participants that must be connected before rounds (sync) or consensus versions (async) open; below it the federation waits for others (default 2)',
      }),
    ),
    sync: Type.Optional(
      Type.Object(
        {
          quorum: Type.Optional(Type.Integer({ minimum: 0, description: '0 = every online participant' })),
          deadlineMs: Type.Optional(Type.Integer({ minimum: 0, description: '0 = no deadline' })),
          minParticipants: Type.Optional(
            Type.Integer({
              minimum: 1,
              description:
                'sync: participants needed before the first round opens (minParticipants applies to every round)',
            }),
          ),
        },
        strict,
      ),
    ),
    async: Type.Optional(
      Type.Object(
        {
          bufferK: Type.Optional(
            Type.Integer({ minimum: 1, description: 'contributions per consensus version' }),
          ),
          stalenessExponent: Type.Optional(Type.Number({ minimum: 0, description: 'weight (1 + tau)^-a' })),
          maxStaleness: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        strict,
      ),
    ),
    recoveryGraceMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600000,
        description:
          'after a coordinator restart, how long the open round waits for its participants to come back before closing without them (0 = no grace)',
      }),
    ),
    localEpochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    distillEpochs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 100,
        description:
          "mutual: passes over the targets' public rows with the distillation term alone, before local training (0 = none; default 2)",
      }),
    ),
    participantLimit: Type.Optional(Type.Integer({ minimum: 1 })),
    modelArch: Type.Optional(PrintableText({ maxLength: 100 })),
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 4294967295 })),
    weightEncoding: Type.Optional(
      StringEnum(['float32', 'float16', 'uint8'] as const, {
        description:
          'fedavg: how weights travel both ways: float32, float16, or uint8 (8 bits per weight with a scale and offset per tensor)',
      }),
    ),
  },
  strict,
);
export type SettingsInput = Static<typeof SettingsInput>;

export const TaskView = Type.Object({
  inputShape: Type.Array(Type.Integer()),
  numClasses: Type.Integer(),
  labelNames: Type.Array(Type.String()),
});
export type TaskView = Static<typeof TaskView>;

/**
 * A federation's settings as stored: resolved (defaults filled in) when it was created.
 * Every field is optional and unknown ones pass through, because a federation may have been
 * created by an older or newer coordinator than the one answering.
 */
export const SettingsView = Type.Object(
  {
    task: Type.Optional(TaskView),
    strategy: Type.Optional(StringEnum(STRATEGY_NAMES)),
    mode: Type.Optional(StringEnum(MODE_NAMES)),
    temperature: Type.Optional(Type.Number()),
    lambda: Type.Optional(Type.Number()),
    aggregation: Type.Optional(StringEnum(AGGREGATION_NAMES)),
    trimFraction: Type.Optional(Type.Number()),
    eraTemperature: Type.Optional(Type.Number()),
    batchSize: Type.Optional(Type.Integer()),
    activeRows: Type.Optional(Type.Integer()),
    encodings: Type.Optional(Type.Array(StringEnum(ENCODING_NAMES))),
    targetEncodings: Type.Optional(Type.Array(StringEnum(ENCODING_NAMES))),
    compressions: Type.Optional(Type.Array(StringEnum(COMPRESSION_NAMES))),
    delta: Type.Optional(Type.Boolean()),
    deltaThreshold: Type.Optional(Type.Number()),
    topk: Type.Optional(Type.Integer()),
    minParticipants: Type.Optional(Type.Integer()),
    sync: Type.Optional(
      Type.Object(
        { quorum: Type.Integer(), deadlineMs: Type.Integer(), minParticipants: Type.Integer() },
        { additionalProperties: true },
      ),
    ),
    async: Type.Optional(
      Type.Object(
        { bufferK: Type.Integer(), stalenessExponent: Type.Number(), maxStaleness: Type.Integer() },
        { additionalProperties: true },
      ),
    ),
    recoveryGraceMs: Type.Optional(Type.Integer()),
    localEpochs: Type.Optional(Type.Integer()),
    distillEpochs: Type.Optional(Type.Integer()),
    participantLimit: Type.Optional(Type.Integer()),
    modelArch: Type.Optional(Type.String()),
    seed: Type.Optional(Type.Integer()),
    weightEncoding: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
export type SettingsView = Static<typeof SettingsView>;
