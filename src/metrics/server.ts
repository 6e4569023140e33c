import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DmError } from '../errors/index.ts';
import { metricsAddrProblem, parseAddr } from './addr.ts';
import type { AgentMetrics } from './registry.ts';

/** A probe's answer: ok, or why not (a short reason shown in the 503 body). */
export type Health = { ok: true } | { ok: false; why: string };

export interface MetricsServerOptions {
  metrics: AgentMetrics;
  /** `/readyz`: NATS reachable and the member key renewed within the lease (agent/agent-metrics.ts). */
  ready(): Health;
}

/** `/healthz` fails when a 500 ms timer fired this much later than due: the event loop is stuck, not just busy. */
export const EVENT_LOOP_STALL_MS = 5_000;

/**
 * The agent's HTTP endpoint (node:http, DM-worker's status port in the shipped deployment):
 *  - `GET /metrics`: the Prometheus text format of the agent's registry;
 *  - `GET /healthz`: 200 while the process runs and its event loop turns (a stall over EVENT_LOOP_STALL_MS: 503);
 *  - `GET /readyz`: 200 while `ready()` says so, else 503 with `{"ready":false,"why":...}`.
 */
export class MetricsServer {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private maxStall = 0;

  constructor(private readonly o: MetricsServerOptions) {}

  /** Listens on `addr`; a taken or forbidden address is DmError MetricsListen (not a stack trace). */
  async listen(addr: string): Promise<AddressInfo> {
    const a = parseAddr(addr);
    if (!a) throw new DmError('BadArguments', metricsAddrProblem(addr)!, { context: { key: 'metrics-addr' } });
    const server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'the address is in use (another dm-agent or DM-worker on this host?)'
            : err.code === 'EACCES'
              ? 'permission denied (ports under 1024 need privileges)'
              : err.code === 'EADDRNOTAVAIL'
                ? 'the host is not an address of this machine'
                : err.message;
        reject(new DmError('MetricsListen', `cannot listen on metrics address ${addr}: ${why}`, { cause: err }));
      });
      server.listen(a.port, a.host, () => resolve());
    });
    server.on('error', () => undefined); // after listening: a socket's error is its own (the request ends)
    this.server = server;
    this.lastTick = Date.now();
    this.timer = setInterval(() => {
      const now = Date.now();
      this.maxStall = now - this.lastTick - 500;
      this.lastTick = now;
    }, 500);
    this.timer.unref();
    return server.address() as AddressInfo;
  }

  private live(): Health {
    const stall = Math.max(this.maxStall, Date.now() - this.lastTick - 500);
    return stall > EVENT_LOOP_STALL_MS ? { ok: false, why: `event loop stalled ${stall} ms` } : { ok: true };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'GET only\n');
    try {
      if (path === '/metrics') return send(res, 200, this.o.metrics.contentType, await this.o.metrics.text());
      if (path === '/healthz' || path === '/readyz') {
        const h = path === '/healthz' ? this.live() : this.o.ready();
        const body = h.ok ? { ok: true } : { ok: false, why: h.why };
        return send(res, h.ok ? 200 : 503, 'application/json', `${JSON.stringify(body)}\n`);
      }
      send(res, 404, 'text/plain', 'not found: /metrics, /healthz or /readyz\n');
    } catch (err) {
      send(res, 500, 'text/plain', `${String(err)}\n`);
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}
