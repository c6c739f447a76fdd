/**
 * The dashboard's two live charts, drawn by chart.js: the accuracy each participant
 * reported per round or version, and the bytes the coordinator received per round or
 * version; both from the coordinator's history. Both are drawn from the dashboard's state (no animation) when its points change;
 * each canvas carries its point count in data-points (what the browser tests read).
 */
import {
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import type { Round } from './api.ts';
import type { AccuracyPoint } from './state.ts';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const COLORS = ['#2458d6', '#d6452e', '#1f8a4c', '#a86300', '#7b3fc4', '#0f8a8a', '#c43f86', '#5b6575'];

type XY = { x: number; y: number };

export class AccuracyChart {
  private readonly chart: Chart<'line', XY[]>;
  private drawn: readonly AccuracyPoint[] | null = null;
  /** Participant of each dataset, in order of first appearance. */
  private order: string[] = [];

  constructor(
    private readonly canvas: HTMLCanvasElement,
    xLabel: string,
  ) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', title: { display: true, text: xLabel }, ticks: { precision: 0 } },
          y: { min: 0, max: 1, title: { display: true, text: 'reported accuracy' } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    canvas.dataset.points = '0';
  }

  /**
   * Draws the points, one line per participant in order of first appearance (so colours
   * stay put); `label` names a participant. Relabels even when the points did not change.
   */
  draw(points: readonly AccuracyPoint[], label: (participantId: string) => string): void {
    let changed = false;
    if (points !== this.drawn) {
      const lines = new Map<string, XY[]>();
      for (const p of points) {
        const line = lines.get(p.participantId) ?? [];
        lines.set(p.participantId, line);
        line.push({ x: p.round, y: p.accuracy });
      }
      this.order = [...lines.keys()];
      this.chart.data.datasets = [...lines.values()].map((data, i) => {
        const color = COLORS[i % COLORS.length]!;
        data.sort((a, b) => a.x - b.x);
        return { label: '', data, borderColor: color, backgroundColor: color, pointRadius: 3, tension: 0.15 };
      });
      this.drawn = points;
      this.canvas.dataset.points = String(points.length);
      changed = true;
    }
    this.order.forEach((id, i) => {
      const ds = this.chart.data.datasets[i]!;
      const name = label(id);
      if (ds.label !== name) {
        ds.label = name;
        changed = true;
      }
    });
    if (changed) this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}

/**
 * Bytes the coordinator received per round or version (the frames of accepted uploads),
 * from its stored history: cumulative, so the curve starts at the federation's first round
 * whenever the page was opened.
 */
export class TrafficChart {
  private readonly chart: Chart<'line', XY[]>;
  private drawn: readonly Round[] | null = null;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    xLabel: string,
  ) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'received (uploads), cumulative',
            data: [],
            borderColor: COLORS[0],
            backgroundColor: COLORS[0],
            pointRadius: 0,
          },
          {
            label: `received in that ${xLabel}`,
            data: [],
            borderColor: COLORS[1],
            backgroundColor: COLORS[1],
            pointRadius: 2,
            showLine: false,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', title: { display: true, text: xLabel }, ticks: { precision: 0 } },
          y: { min: 0, title: { display: true, text: 'KiB (all participants)' } },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    canvas.dataset.points = '0';
  }

  /** Draws the rounds' bytes (rounds sorted by number, as the state keeps them). */
  draw(rounds: readonly Round[]): void {
    if (rounds === this.drawn) return;
    const [total, each] = this.chart.data.datasets as [
      ChartDataset<'line', XY[]>,
      ChartDataset<'line', XY[]>,
    ];
    let sum = 0;
    total.data = rounds.map((r) => {
      sum += r.bytesReceived;
      return { x: r.number, y: sum / 1024 };
    });
    each.data = rounds.map((r) => ({ x: r.number, y: r.bytesReceived / 1024 }));
    this.drawn = rounds;
    this.canvas.dataset.points = String(rounds.length);
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}
