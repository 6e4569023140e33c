import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { METRICS, type MetricKey, type MetricSpec } from './catalog.ts';

type Built = {
  [K in MetricKey]: (typeof METRICS)[K]['type'] extends 'counter'
    ? Counter<string>
    : (typeof METRICS)[K]['type'] extends 'gauge'
      ? Gauge<string>
      : Histogram<string>;
};

/**
 * Gauges set where their value changes (not read at scrape): the per-table lag, set at each commit. Every other gauge
 * is a reading of state (a subtask's status, the relay's, the election's) taken when Prometheus scrapes: it is reset
 * and set again by the collectors, so a subtask or relay that went away leaves no stale series behind.
 */
const SET_WHERE_CHANGED = new Set<MetricKey>(['tableLag']);

/** A reading taken at scrape time; `now` is Date.now() of the scrape. */
export type Collector = (now: number) => void | Promise<void>;

/**
 * The agent's Prometheus registry (its own, never prom-client's global one, so two agents in one process, as tests
 * run them, do not share series): every metric of the catalogue, prom-client's process metrics, and the collectors
 * that read state at scrape time.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly m: Built;
  private readonly collectors = new Set<Collector>();

  constructor(readonly worker: string) {
    collectDefaultMetrics({ register: this.registry });
    const m: Partial<Record<MetricKey, Counter<string> | Gauge<string> | Histogram<string>>> = {};
    for (const [key, s] of Object.entries(METRICS) as [MetricKey, MetricSpec][]) {
      const base = { name: s.name, help: s.help, labelNames: [...s.labels], registers: [this.registry] };
      m[key] =
        s.type === 'counter'
          ? new Counter(base)
          : s.type === 'gauge'
            ? new Gauge(base)
            : new Histogram({ ...base, buckets: [...(s.buckets ?? [])] });
    }
    this.m = m as Built;
  }

  /** Adds a scrape-time reading; returns its removal. */
  onCollect(c: Collector): () => void {
    this.collectors.add(c);
    return () => this.collectors.delete(c);
  }

  /** The text exposition (Prometheus format 0.0.4) after every collector has run. */
  async text(): Promise<string> {
    const now = Date.now();
    for (const [key, s] of Object.entries(METRICS) as [MetricKey, MetricSpec][])
      if (s.type === 'gauge' && !SET_WHERE_CHANGED.has(key)) (this.m[key] as Gauge<string>).reset();
    for (const c of this.collectors) await c(now);
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
