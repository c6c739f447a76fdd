/** What the browser join page asks before joining; the join token in the path is the credential. */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable, StringEnum } from './schema.ts';
import { TaskView } from './settings.ts';

export const JoinParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) });
export type JoinParams = Static<typeof JoinParams>;

export const JoinInfo = Type.Object({
  federation: Type.Object({
    id: Type.String(),
    name: Type.String(),
    status: StringEnum(['active', 'paused'] as const),
    strategy: Type.String(),
    mode: Type.String(),
    task: TaskView,
    modelArch: Type.String({ description: "fedavg: the architecture every participant trains; '' = any" }),
    localEpochs: Type.Integer(),
    currentRound: Type.Integer(),
    consensusVersion: Type.Integer(),
    participantsOnline: Type.Integer(),
    minParticipants: Type.Integer({ description: 'participants needed before rounds or versions open' }),
    waitingForParticipants: Type.Boolean({
      description: 'active, but fewer than minParticipants are connected: no new round or version opens',
    }),
  }),
  demo: Type.Object({
    available: Type.Boolean(),
    dataset: Nullable(Type.String()),
    maxSamples: Type.Integer(),
    url: Nullable(Type.String()),
  }),
});
export type JoinInfo = Static<typeof JoinInfo>;
