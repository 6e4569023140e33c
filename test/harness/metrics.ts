/**
 * Scraping a dm-agent's /metrics in tests (issue #17): the Prometheus text format parsed into samples, and lookups by
 * name and labels. Enough of the format for prom-client's output: `# HELP` / `# TYPE` lines, samples with optional
 * labels (escaped \\ \" \n in values), values including NaN and +Inf/-Inf.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** Metric family names with their type (`# TYPE`), e.g. dm_syncer_replication_lag -> histogram. */
  types: Map<string, string>;
  /** Sum of the samples named `name` whose labels include `labels`; undefined when none matches. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** True when a family or a sample of this name is exported (histogram series `_bucket`/`_sum`/`_count` count). */
  has(name: string): boolean;
}

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# TYPE (\S+) (\S+)/.exec(line);
      if (m) types.set(m[1]!, m[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a metrics line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2]) {
      for (const l of m[2].slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const v = m[3]!;
    const value = v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v);
    samples.push({ name: m[1]!, labels, value });
  }
  const matches = (s: Sample, labels: Record<string, string>) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return {
    samples,
    types,
    value(name, labels = {}) {
      const hit = samples.filter((s) => s.name === name && matches(s, labels));
      return hit.length === 0 ? undefined : hit.reduce((a, s) => a + s.value, 0);
    },
    has(name) {
      return types.has(name) || samples.some((s) => s.name === name);
    },
  };
}

/** GET http://ADDR/metrics, parsed. */
export async function scrapeMetrics(addr: string): Promise<Scrape> {
  const res = await fetch(`http://${addr}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return parseMetrics(await res.text());
}

/** GET http://ADDR/healthz or /readyz: the status code and the JSON body. */
export async function probe(addr: string, path: '/healthz' | '/readyz'): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://${addr}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body };
}
