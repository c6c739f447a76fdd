/**
 * The dashboard's two live charts, drawn by chart.js: the accuracy each participant
 * reported per round or version, and the bytes the coordinator received and sent over
 * time. Both update in place (no animation) as the poller brings new points; each canvas
 * carries its point count in data-points (what the browser tests read).
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

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Legend, Tooltip);

const COLORS = ['#2458d6', '#d6452e', '#1f8a4c', '#a86300', '#7b3fc4', '#0f8a8a', '#c43f86', '#5b6575'];

type XY = { x: number; y: number };

export class AccuracyChart {
  private readonly chart: Chart<'line', XY[]>;
  private readonly byParticipant = new Map<string, ChartDataset<'line', XY[]>>();
  private readonly seen = new Set<string>();
  points = 0;

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

  /** Adds a point once per (participant, round, source); returns whether anything changed. */
  add(participantId: string, label: string, round: number, accuracy: number, key: string): boolean {
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    let ds = this.byParticipant.get(participantId);
    if (!ds) {
      const color = COLORS[this.byParticipant.size % COLORS.length]!;
      ds = { label, data: [], borderColor: color, backgroundColor: color, pointRadius: 3, tension: 0.15 };
      this.byParticipant.set(participantId, ds);
      this.chart.data.datasets.push(ds);
    }
    ds.label = label;
    ds.data.push({ x: round, y: accuracy });
    ds.data.sort((a, b) => a.x - b.x);
    this.points++;
    return true;
  }

  relabel(participantId: string, label: string): void {
    const ds = this.byParticipant.get(participantId);
    if (ds) ds.label = label;
  }

  render(): void {
    this.canvas.dataset.points = String(this.points);
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}

export class TrafficChart {
  private readonly chart: Chart<'line', XY[]>;
  private readonly started = Date.now();
  points = 0;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'received (uploads)',
            data: [],
            borderColor: COLORS[0],
            backgroundColor: COLORS[0],
            pointRadius: 0,
          },
          {
            label: 'sent (tasks, targets)',
            data: [],
            borderColor: COLORS[1],
            backgroundColor: COLORS[1],
            pointRadius: 0,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: 'linear', title: { display: true, text: 'seconds since this page opened' } },
          y: {
            min: 0,
            title: { display: true, text: 'KiB (all participants)' },
          },
        },
        plugins: { legend: { position: 'bottom' } },
      },
    });
    canvas.dataset.points = '0';
  }

  add(bytesIn: number, bytesOut: number): void {
    const x = (Date.now() - this.started) / 1000;
    const [received, sent] = this.chart.data.datasets as [
      ChartDataset<'line', XY[]>,
      ChartDataset<'line', XY[]>,
    ];
    received.data.push({ x, y: bytesIn / 1024 });
    sent.data.push({ x, y: bytesOut / 1024 });
    // Keep the last ~15 minutes at a 1.5 s poll.
    if (received.data.length > 600) {
      received.data.shift();
      sent.data.shift();
    }
    this.points++;
    this.canvas.dataset.points = String(this.points);
    this.chart.update('none');
  }

  destroy(): void {
    this.chart.destroy();
  }
}
