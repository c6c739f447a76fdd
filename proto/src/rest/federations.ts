/** Federations over REST: create, list, get, pause, resume, delete. */
import { type Static, Type } from '@sinclair/typebox';
import { BuiltinSlice } from './public-sets.ts';
import { Nullable, PrintableText, StringEnum } from './schema.ts';
import { SettingsInput, SettingsView } from './settings.ts';

export const FEDERATION_STATUSES = ['active', 'paused', 'deleted'] as const;
export type FederationStatus = (typeof FEDERATION_STATUSES)[number];

export const CreateFederationBody = Type.Object(
  {
    name: PrintableText({ minLength: 1, maxLength: 200 }),
    publicSetId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    publicSet: Type.Optional(BuiltinSlice),
    settings: Type.Optional(SettingsInput),
  },
  { additionalProperties: false },
);
export type CreateFederationBody = Static<typeof CreateFederationBody>;

/** The public set a federation's batches are drawn from. */
export const PublicSetRef = Type.Object({
  id: Type.String(),
  sampleCount: Type.Integer(),
  shape: Type.Array(Type.Integer()),
  source: Type.String(),
  url: Type.String({ description: 'where participants download it' }),
});
export type PublicSetRef = Static<typeof PublicSetRef>;

export const FederationView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: StringEnum(FEDERATION_STATUSES),
  settings: SettingsView,
  publicSet: Nullable(PublicSetRef),
  currentRound: Type.Integer({ description: 'sync: the open round; async: the newest consensus version' }),
  consensusVersion: Type.Integer(),
  participantsOnline: Type.Integer(),
  minParticipants: Type.Integer({ description: 'participants needed before rounds run (settings)' }),
  waitingForParticipants: Type.Boolean({
    description: 'active, but fewer than minParticipants are connected: no new round or version opens',
  }),
  createdAt: Type.String(),
});
export type FederationView = Static<typeof FederationView>;
