/**
 * A small line chart written as SVG text: lines with an optional shaded band (min..max
 * across participants), horizontal reference lines, linear or log-10 x axis, axis ticks,
 * title and legend. No dependencies; any browser or image viewer opens the file.
 */

export interface Series {
  name: string;
  color: string;
  /** [x, y] in data units, drawn in the given order. */
  points: readonly (readonly [number, number])[];
  /** [x, low, high]: shaded behind the line. */
  band?: readonly (readonly [number, number, number])[];
  dashed?: boolean;
  /** [x, y, text]: a short label written just above the point (in the series' colour). */
  labels?: readonly (readonly [number, number, string])[];
}

export interface ReferenceLine {
  name: string;
  color: string;
  y: number;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  width?: number;
  height?: number;
  /** y range; default: the data's, padded. */
  yMin?: number;
  yMax?: number;
  /** Formats y tick labels (default: the number). */
  yFormat?: (v: number) => string;
  references?: readonly ReferenceLine[];
}

const MARGIN = { left: 64, right: 190, top: 40, bottom: 52 };

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round-numbered ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten covering [lo, hi] (both > 0). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) out.push(10 ** k);
  return out;
}

function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(4)));
}

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 760;
  const height = options.height ?? 440;
  const logX = options.logX ?? false;
  const keep = (x: number) => Number.isFinite(x) && (!logX || x > 0);
  const drawn = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => keep(x) && Number.isFinite(y)),
    band: s.band?.filter(([x, lo, hi]) => keep(x) && Number.isFinite(lo) && Number.isFinite(hi)),
    labels: s.labels?.filter(([x, y]) => keep(x) && Number.isFinite(y)),
  }));
  const xs = drawn.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...drawn.flatMap((s) => s.points.map((p) => p[1])),
    ...drawn.flatMap((s) => (s.band ?? []).flatMap((b) => [b[1], b[2]])),
    ...(options.references ?? []).map((r) => r.y),
  ];
  let xLo = xs.length ? Math.min(...xs) : logX ? 1 : 0;
  let xHi = xs.length ? Math.max(...xs) : logX ? 10 : 1;
  if (!logX) xLo = Math.min(0, xLo);
  if (xHi <= xLo) xHi = logX ? xLo * 10 : xLo + 1;
  let xTicks: number[];
  if (logX) {
    xTicks = logTicks(xLo, xHi);
    xLo = xTicks[0]!;
    xHi = xTicks.at(-1)!;
  } else {
    xTicks = niceTicks(xLo, xHi);
    xHi = Math.max(xHi, xTicks.at(-1)!);
  }
  let yLo = options.yMin ?? (ys.length ? Math.min(...ys) : 0);
  let yHi = options.yMax ?? (ys.length ? Math.max(...ys) : 1);
  if (yHi <= yLo) {
    yLo -= 0.05;
    yHi += 0.05;
  }
  const yTicks = niceTicks(yLo, yHi, 5).filter((v) => v >= yLo - 1e-9 && v <= yHi + 1e-9);

  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const fx = (x: number) => {
    const f = logX
      ? (Math.log10(x) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))
      : (x - xLo) / (xHi - xLo);
    return MARGIN.left + f * plotW;
  };
  const fy = (y: number) => MARGIN.top + (1 - (y - yLo) / (yHi - yLo)) * plotH;
  const n = (v: number) => v.toFixed(1);
  const yFormat = options.yFormat ?? formatTick;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${n(MARGIN.left + plotW / 2)}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<defs><clipPath id="plot"><rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/></clipPath></defs>`,
  ];
  for (const v of xTicks) {
    const x = n(fx(v));
    parts.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(formatTick(v))}</text>`,
    );
  }
  for (const v of yTicks) {
    const y = n(fy(v));
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(yFormat(v))}</text>`,
    );
  }
  parts.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${n(MARGIN.left + plotW / 2)}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${n(MARGIN.top + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    '<g clip-path="url(#plot)">',
  );
  for (const s of drawn) {
    if (s.band && s.band.length > 1) {
      const upper = s.band.map(([x, , hi]) => `${n(fx(x))},${n(fy(hi))}`);
      const lower = s.band.map(([x, lo]) => `${n(fx(x))},${n(fy(lo))}`).reverse();
      parts.push(
        `<polygon points="${[...upper, ...lower].join(' ')}" fill="${s.color}" fill-opacity="0.12" stroke="none"/>`,
      );
    }
  }
  for (const r of options.references ?? []) {
    const y = n(fy(r.y));
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    );
  }
  for (const s of drawn) {
    if (s.points.length === 0) continue;
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    const pts = s.points.map(([x, y]) => `${n(fx(x))},${n(fy(y))}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    if (s.points.length <= 60) {
      for (const [x, y] of s.points)
        parts.push(`<circle cx="${n(fx(x))}" cy="${n(fy(y))}" r="2.5" fill="${s.color}"/>`);
    }
    for (const [x, y, text] of s.labels ?? [])
      parts.push(
        `<text x="${n(fx(x))}" y="${n(fy(y) - 7)}" text-anchor="middle" font-size="11" fill="${s.color}">${escapeXml(text)}</text>`,
      );
  }
  parts.push('</g>');
  const legend = [
    ...drawn.map((s) => ({ name: s.name, color: s.color, dashed: s.dashed ?? false })),
    ...(options.references ?? []).map((r) => ({ name: r.name, color: r.color, dashed: true })),
  ];
  legend.forEach((l, i) => {
    const x = MARGIN.left + plotW + 14;
    const y = MARGIN.top + 10 + i * 20;
    const dash = l.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(
      `<line x1="${x}" y1="${y}" x2="${x + 26}" y2="${y}" stroke="${l.color}" stroke-width="2"${dash}/>`,
      `<text x="${x + 32}" y="${y}" dominant-baseline="middle">${escapeXml(l.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
