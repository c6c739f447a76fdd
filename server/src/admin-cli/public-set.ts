/** `mutua public-set upload|list`: the shared unlabeled sets federations exchange predictions on. */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { positionals, str } from './args.ts';
import type { PublicSet } from './client.ts';
import { type Command, commandLine } from './command.ts';
import { CliError, usage } from './errors.ts';
import { bytes, json, keyValues, table, time } from './format.ts';

const FORMATS = ['idx', 'csv', 'mutua-public-v1'] as const;

/** The format a file name shows, when it shows one (MNIST's files end in -ubyte). */
function formatOf(file: string): string | undefined {
  const name = basename(file).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.idx') || /idx\d-ubyte$/.test(name) || name.endsWith('-ubyte')) return 'idx';
  if (name.endsWith('.mutua')) return 'mutua-public-v1';
  return undefined;
}

function showSet(s: PublicSet): string {
  return keyValues([
    ['id', s.id],
    ['samples', s.sampleCount],
    ['shape', s.shape.join('x')],
    ['size', bytes(s.byteLength)],
    ['source', s.source],
    ['created', time(s.createdAt)],
  ]);
}

const upload: Command = {
  words: ['public-set', 'upload'],
  args: 'FILE [--format idx|csv|mutua-public-v1] [--shape HxWxC] [--name NAME]',
  summary:
    'Upload a public set (unlabeled samples every participant predicts on). Prints its id for mutua federation create --public-set-id. Uploading the same content again returns the same id.',
  details: `Options
  --format F        idx (IDX images), csv (label column then features; labels are dropped),
                    mutua-public-v1; default from the file name (.csv, *-ubyte / .idx, .mutua)
  --shape HxWxC     sample shape of a CSV file, e.g. 28x28x1
  --name NAME       shown as the set's source (default: the file name)`,
  options: { format: { type: 'string' }, shape: { type: 'string' }, name: { type: 'string' } },
  async run(ctx, p) {
    const help = `${commandLine(this)} --help`;
    const [file] = positionals(p, ['FILE'], help);
    const format = str(p, 'format') ?? formatOf(file!);
    if (!format)
      throw usage(`cannot tell the format of ${file} from its name: add --format ${FORMATS.join('|')}`, help);
    if (!(FORMATS as readonly string[]).includes(format))
      throw usage(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`, help);
    const shape = str(p, 'shape');
    if (shape !== undefined && !/^[1-9]\d*(x[1-9]\d*)*$/.test(shape))
      throw usage(`--shape must look like 28x28x1, got "${shape}"`, help);
    const info = await stat(file!).catch(() => null);
    if (!info?.isFile()) throw new CliError(`${file}: no such file`, 'ENOENT');
    const data = new Uint8Array(await readFile(file!));
    const set = await ctx.client.uploadPublicSet(data, {
      format,
      name: str(p, 'name') ?? basename(file!),
      ...(shape === undefined ? {} : { shape }),
    });
    if (ctx.json) return ctx.out(json(set));
    ctx.out(showSet(set));
    ctx.note(`use it: mutua federation create NAME --public-set-id ${set.id}`);
  },
};

const list: Command = {
  words: ['public-set', 'list'],
  args: '',
  summary: 'List the public sets the coordinator holds.',
  options: {},
  async run(ctx, p) {
    positionals(p, [], `${commandLine(this)} --help`);
    const sets = await ctx.client.listPublicSets();
    if (ctx.json) return ctx.out(json(sets));
    if (sets.length === 0)
      return ctx.note(
        'no public sets yet: mutua public-set upload FILE, or federation create --public-set builtin:mnist',
      );
    ctx.out(
      table(
        ['id', 'samples', 'shape', 'size', 'source', 'created'],
        sets.map((s) => [
          s.id,
          s.sampleCount,
          s.shape.join('x'),
          bytes(s.byteLength),
          s.source,
          time(s.createdAt),
        ]),
      ),
    );
  },
};

export const publicSetCommands: readonly Command[] = [upload, list];
