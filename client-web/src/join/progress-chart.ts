/**
 * The participant's own progress: local (held-out) and training accuracy per round or
 * version it contributed to, as a small SVG line chart under the stats. The geometry is a
 * pure function (tested under node); drawing only sets the SVG's attributes.
 */
import type { UploadRow } from './state.ts';

export const CHART_WIDTH = 600;
export const CHART_HEIGHT = 150;
/** Left margin for the 0% / 50% / 100% labels. */
const LEFT = 36;
const PAD = 8;

export interface ChartGeometry {
  /** SVG polyline points ("x,y x,y …"), '' without values. */
  local: string;
  training: string;
  /** The first and last round shown (the x axis), 0 without uploads. */
  from: number;
  to: number;
}

/** Points of the two lines: x by round (evenly when they are all the same round), y 0..100 %. */
export function chartGeometry(rows: readonly UploadRow[]): ChartGeometry {
  if (rows.length === 0) return { local: '', training: '', from: 0, to: 0 };
  const from = Math.min(...rows.map((r) => r.round));
  const to = Math.max(...rows.map((r) => r.round));
  const span = CHART_WIDTH - LEFT - PAD;
  const x = (r: UploadRow, i: number) =>
    LEFT +
    (to > from
      ? ((r.round - from) / (to - from)) * span
      : rows.length > 1
        ? (i / (rows.length - 1)) * span
        : span / 2);
  const y = (v: number) => PAD + (1 - Math.min(1, Math.max(0, v))) * (CHART_HEIGHT - 2 * PAD);
  const line = (pick: (r: UploadRow) => number | null) =>
    rows
      .map((r, i) => {
        const v = pick(r);
        return v === null ? null : `${x(r, i).toFixed(1)},${y(v).toFixed(1)}`;
      })
      .filter((p) => p !== null)
      .join(' ');
  return { local: line((r) => r.valAccuracy), training: line((r) => r.trainAccuracy), from, to };
}

const SVG = 'http://www.w3.org/2000/svg';

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** The chart's SVG element, empty ("no data yet") until `drawProgress` gets uploads. */
export function progressChart(): SVGElement {
  const root = svg('svg', {
    id: 'progress-chart',
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT + 18}`,
    role: 'img',
    'aria-label': 'your accuracy per round',
    style: 'width: 100%; max-width: 640px; display: block; margin-top: 0.6rem',
    'data-points': 0,
  });
  for (const v of [0, 0.5, 1]) {
    const y = PAD + (1 - v) * (CHART_HEIGHT - 2 * PAD);
    root.append(
      svg('line', { x1: LEFT, x2: CHART_WIDTH - PAD, y1: y, y2: y, stroke: '#d9dee6' }),
      svg('text', { x: 0, y: y + 4, 'font-size': 11, fill: '#6b7380' }, `${v * 100}%`),
    );
  }
  root.append(
    svg('polyline', { id: 'progress-local', fill: 'none', stroke: '#2458d6', 'stroke-width': 2, points: '' }),
    svg('polyline', {
      id: 'progress-training',
      fill: 'none',
      stroke: '#d6452e',
      'stroke-width': 1.5,
      'stroke-dasharray': '4 3',
      points: '',
    }),
    svg(
      'text',
      { id: 'progress-axis', x: LEFT, y: CHART_HEIGHT + 14, 'font-size': 11, fill: '#6b7380' },
      'No data yet: a point per contribution.',
    ),
  );
  return root;
}

export function drawProgress(root: Element, rows: readonly UploadRow[], unit: string): void {
  const g = chartGeometry(rows);
  root.querySelector('#progress-local')?.setAttribute('points', g.local);
  root.querySelector('#progress-training')?.setAttribute('points', g.training);
  root.setAttribute('data-points', String(rows.length));
  const axis = root.querySelector('#progress-axis');
  if (axis) {
    axis.textContent =
      rows.length === 0
        ? 'No data yet: a point per contribution.'
        : `${unit}s ${g.from}–${g.to} · blue: local accuracy (held-out data) · red dashed: training accuracy`;
  }
}
