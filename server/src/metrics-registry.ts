/**
 * A minimal Prometheus registry: counters, gauges and a summary-free histogram, rendered
 * in the text exposition format. Small enough not to justify a dependency.
 */
type Labels = Record<string, string>;

const key = (labels: Labels) =>
  Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
    .join(',');

abstract class Metric {
  protected readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

export class Counter extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends Metric {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }
  set(value: number, labels: Labels = {}): void {
    this.values.set(key(labels), value);
  }
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: number[],
  ) {
    this.counts = buckets.map(() => 0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (let i = 0; i < this.buckets.length; i++) {
      lines.push(`${this.name}_bucket{le="${this.buckets[i]}"} ${this.counts[i]}`);
    }
    lines.push(
      `${this.name}_bucket{le="+Inf"} ${this.count}`,
      `${this.name}_sum ${this.sum}`,
      `${this.name}_count ${this.count}`,
    );
    return lines.join('\n');
  }
}

export class CoordinatorMetrics {
  readonly connections = new Gauge('mutua_connections', 'WebSocket connections open now');
  readonly participantsOnline = new Gauge(
    'mutua_participants_online',
    'Authenticated participants online, by federation',
  );
  readonly roundsOpened = new Counter('mutua_rounds_opened_total', 'Rounds or consensus versions opened');
  readonly roundsClosed = new Counter(
    'mutua_rounds_closed_total',
    'Rounds or consensus versions closed, by reason',
  );
  readonly submissions = new Counter('mutua_submissions_total', 'Accepted submissions, by kind');
  readonly duplicates = new Counter(
    'mutua_duplicate_submissions_total',
    'Submissions answered as duplicates',
  );
  readonly rejections = new Counter(
    'mutua_rejections_total',
    'Rejected messages and connections, by error code',
  );
  readonly bytesIn = new Counter('mutua_bytes_received_total', 'WebSocket bytes received');
  readonly bytesOut = new Counter('mutua_bytes_sent_total', 'WebSocket bytes sent');
  readonly publicSetRequests = new Counter(
    'mutua_public_set_requests_total',
    'Public-set downloads, by status (200 sent, 304 already held)',
  );
  readonly publicSetBytes = new Counter(
    'mutua_public_set_bytes_sent_total',
    'Public-set body bytes sent, by content coding (br, gzip, identity)',
  );
  readonly aggregationSeconds = new Histogram(
    'mutua_aggregation_seconds',
    'Time to aggregate one consensus version',
    [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
  );

  /** Cluster replica: bytes this replica published on the NATS bus. */
  busBytes: (() => number) | null = null;

  /** @param constant labels on every series (a cluster replica's `replica`). */
  constructor(private readonly constant: Labels = {}) {}

  render(): string {
    const text = this.renderAll();
    const extra = key(this.constant);
    if (!extra) return text;
    // `name{a="b"} 1` → `name{a="b",replica="r1"} 1`; `name 1` → `name{replica="r1"} 1`.
    return text.replace(/^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? /gm, (_m, name: string, labels?: string) =>
      labels ? `${name}{${labels.slice(1, -1)},${extra}} ` : `${name}{${extra}} `,
    );
  }

  private renderAll(): string {
    const bus = this.busBytes
      ? `# HELP mutua_bus_bytes_published_total Bytes this replica published on the cluster bus (NATS)\n# TYPE mutua_bus_bytes_published_total counter\nmutua_bus_bytes_published_total ${this.busBytes()}\n`
      : '';
    return `${bus}${[
      this.connections,
      this.participantsOnline,
      this.roundsOpened,
      this.roundsClosed,
      this.submissions,
      this.duplicates,
      this.rejections,
      this.bytesIn,
      this.bytesOut,
      this.publicSetRequests,
      this.publicSetBytes,
      this.aggregationSeconds,
    ]
      .map((m) => m.render())
      .join('\n')}\n`;
  }
}
