/** Participants and their traffic over REST. */
import { type Static, Type } from '@sinclair/typebox';

export const ParticipantView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.String(),
  modelArch: Type.String(),
  online: Type.Boolean(),
  firstSeenAt: Type.String(),
  lastSeenAt: Type.String(),
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
});
export type ParticipantView = Static<typeof ParticipantView>;

export const ParticipantParams = Type.Object({ id: Type.String(), participantId: Type.String() });

export const TrafficView = Type.Object({
  bytesIn: Type.Integer(),
  bytesOut: Type.Integer(),
  participants: Type.Array(
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      bytesIn: Type.Integer(),
      bytesOut: Type.Integer(),
    }),
  ),
});
export type TrafficView = Static<typeof TrafficView>;
