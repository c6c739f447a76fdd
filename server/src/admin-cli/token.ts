/** `mutua token create|list|revoke`: join tokens, one per participant (or per browser link). */
import { durationSeconds, positionals, str } from './args.ts';
import type { JoinToken } from './client.ts';
import { type Command, commandLine } from './command.ts';
import { json, keyValues, table, time } from './format.ts';

/** The browser join link; the API returns it relative to the coordinator. */
const joinLink = (base: string, t: JoinToken) =>
  `${base}${t.joinUrl ?? `/join/${encodeURIComponent(t.token!)}`}`;

function state(t: JoinToken, now = Date.now()): string {
  if (t.revokedAt) return 'revoked';
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return 'expired';
  return 'active';
}

const create: Command = {
  words: ['token', 'create'],
  args: 'FEDERATION [--label TEXT] [--expires-in DURATION]',
  summary:
    'Issue a join token for a federation (by id or name). The token is shown once: only its hash is stored.',
  details: `Options
  --label TEXT              who it is for, shown in token list (e.g. "lab-3")
  --expires-in DURATION     stop admitting new participants after 3600, 90s, 15m, 2h or 7d
                            (participants already admitted carry on with their resume token)`,
  options: { label: { type: 'string' }, 'expires-in': { type: 'string' } },
  async run(ctx, p) {
    const help = `${commandLine(this)} --help`;
    const [ref] = positionals(p, ['FEDERATION'], help);
    const expiresInSeconds = durationSeconds(p, 'expires-in', help);
    const label = str(p, 'label');
    const f = await ctx.client.resolveFederation(ref!);
    const t = await ctx.client.createToken(f.id, {
      ...(label === undefined ? {} : { label }),
      ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
    });
    const link = joinLink(ctx.client.baseUrl, t);
    if (ctx.json) return ctx.out(json({ ...t, federationId: f.id, joinLink: link }));
    ctx.out(
      keyValues([
        ['token', t.token],
        ['id', t.id],
        ['federation', `${f.name} (${f.id})`],
        ['label', t.label],
        ['expires', time(t.expiresAt) ?? 'never'],
        ['join link', link],
      ]),
    );
    ctx.note(
      `the token is shown only now. Join from a terminal:\n  npx mutua-client --coordinator ${ctx.client.baseUrl} --token ${t.token} --data builtin:mnist\nor open the join link in a browser.`,
    );
  },
};

const list: Command = {
  words: ['token', 'list'],
  args: 'FEDERATION',
  summary: 'List the join tokens of a federation (ids and state; the tokens themselves are not stored).',
  options: {},
  async run(ctx, p) {
    const [ref] = positionals(p, ['FEDERATION'], `${commandLine(this)} --help`);
    const f = await ctx.client.resolveFederation(ref!);
    const tokens = await ctx.client.listTokens(f.id);
    if (ctx.json) return ctx.out(json(tokens));
    if (tokens.length === 0)
      return ctx.note(`federation ${f.name} has no join tokens: mutua token create ${f.id}`);
    ctx.out(
      table(
        ['id', 'label', 'state', 'created', 'expires', 'last used'],
        tokens.map((t) => [
          t.id,
          t.label,
          state(t),
          time(t.createdAt),
          time(t.expiresAt),
          time(t.lastUsedAt),
        ]),
      ),
    );
  },
};

const revoke: Command = {
  words: ['token', 'revoke'],
  args: 'FEDERATION TOKEN_ID',
  summary:
    'Revoke a join token (TOKEN_ID from token list): it admits nobody, and participants admitted with it are disconnected.',
  options: {},
  async run(ctx, p) {
    const [ref, tokenId] = positionals(p, ['FEDERATION', 'TOKEN_ID'], `${commandLine(this)} --help`);
    const f = await ctx.client.resolveFederation(ref!);
    await ctx.client.revokeToken(f.id, tokenId!);
    ctx.out(
      ctx.json
        ? json({ id: tokenId, federationId: f.id, state: 'revoked' })
        : `token ${tokenId} of federation ${f.name} revoked\n`,
    );
  },
};

export const tokenCommands: readonly Command[] = [create, list, revoke];
