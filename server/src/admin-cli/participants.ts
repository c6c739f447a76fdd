/** `mutua participants FEDERATION`: who has joined, who is online, traffic per participant. */
import { positionals } from './args.ts';
import { type Command, commandLine } from './command.ts';
import { bytes, json, table, time } from './format.ts';

const participants: Command = {
  words: ['participants'],
  args: 'FEDERATION',
  summary:
    'List the participants of a federation (by id or name): online now, kind, model, last seen, bytes sent and received.',
  options: {},
  async run(ctx, p) {
    const [ref] = positionals(p, ['FEDERATION'], `${commandLine(this)} --help`);
    const f = await ctx.client.resolveFederation(ref!);
    const list = await ctx.client.participants(f.id);
    if (ctx.json) return ctx.out(json(list));
    if (list.length === 0)
      return ctx.note(
        `no participants in federation ${f.name} yet: issue tokens with mutua token create ${f.id}`,
      );
    ctx.out(
      table(
        ['id', 'name', 'kind', 'model', 'online', 'last seen', 'in', 'out'],
        list.map((x) => [
          x.id,
          x.name,
          x.kind,
          x.modelArch,
          x.online ? 'yes' : 'no',
          time(x.lastSeenAt),
          bytes(x.bytesIn),
          bytes(x.bytesOut),
        ]),
      ),
    );
    ctx.note(`${list.length} participant(s), ${list.filter((x) => x.online).length} online`);
  },
};

export const participantsCommands: readonly Command[] = [participants];
