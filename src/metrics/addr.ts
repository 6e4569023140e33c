/** The metrics address of dm-agent (`--metrics-addr`, `TSDM_METRICS_ADDR`, agent.yaml `metrics-addr`). */
/** `HOST:PORT`, `:PORT` (all interfaces) or `[v6]:PORT`; why not, or undefined. */
export function metricsAddrProblem(v: string): string | undefined {
  return parseAddr(v) ? undefined : `metrics address ${JSON.stringify(v)} must be HOST:PORT or :PORT (e.g. :8262)`;
}

export function parseAddr(v: string): { host: string | undefined; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}
