/** Human output: aligned tables, key/value blocks, short times and sizes. */

export type Cell = string | number | null | undefined;

/** Columns padded to their widest cell; headers in capitals; empty cells shown as "-". */
export function table(headers: readonly string[], rows: readonly Cell[][]): string {
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n')}\n`;
}

/** `key: value` lines, keys aligned. */
export function keyValues(pairs: readonly [string, Cell][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return `${pairs.map(([k, v]) => `${`${k}:`.padEnd(width)} ${cell(v)}`).join('\n')}\n`;
}

function cell(v: Cell): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}

/** ISO time to the second, UTC ("2026-12-02 16:20:01Z"), or undefined. */
export function time(iso: string | null | undefined): string | undefined {
  if (!iso) return undefined;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function percent(x: number | undefined): string | undefined {
  return x === undefined ? undefined : `${(x * 100).toFixed(1)}%`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
