/** Join tokens over REST: issued (the secret shown once), listed without it, revoked. */
import { type Static, Type } from '@sinclair/typebox';
import { Nullable, PrintableText } from './schema.ts';

/** Optional: no body issues an unlabeled token that never expires. */
export const IssueTokenBody = Nullable(
  Type.Object(
    {
      label: Type.Optional(PrintableText({ maxLength: 200 })),
      expiresInSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
      maxUses: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 1_000_000,
          description:
            'participants the token may register (default: no limit); then BAD_TOKEN TOKEN_USED_UP',
        }),
      ),
    },
    { additionalProperties: false },
  ),
);
export type IssueTokenBody = Static<typeof IssueTokenBody>;

const tokenFields = {
  id: Type.String(),
  label: Type.String(),
  createdAt: Type.String(),
  expiresAt: Nullable(Type.String()),
  revokedAt: Nullable(Type.String()),
  lastUsedAt: Nullable(Type.String()),
  maxUses: Nullable(Type.Integer({ description: 'participants the token may register; null = no limit' })),
};

/** A token as listed: never the secret. */
export const TokenView = Type.Object(tokenFields);
export type TokenView = Static<typeof TokenView>;

/** The answer to issuing a token: the only time the secret is shown. */
export const IssuedToken = Type.Object({
  ...tokenFields,
  token: Type.String({ description: 'shown only in the response that creates it' }),
  joinUrl: Type.String({ description: 'the browser join page for this token' }),
});
export type IssuedToken = Static<typeof IssuedToken>;

export const TokenParams = Type.Object({ id: Type.String(), tokenId: Type.String() });
