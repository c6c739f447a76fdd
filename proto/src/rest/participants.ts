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
  trust: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    description:
      "aggregation 'agreement': moving average of the trust factors of its contributions (1 = in line with the others); null until scored or after a restart",
  }),
  flagged: Type.Boolean({
    description: 'its trust weight fell below 0.5: its uploads are being down-weighted',
  }),
  flagReason: Type.Union(
    [Type.Literal('far from the others'), Type.Literal('copies its targets'), Type.Null()],
    {
      description:
        "why it is flagged: its uploads lie far from the others', or repeat the targets it was sent (free-riding); null when not flagged",
    },
  ),
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
