/**
 * Private nats-server instances with JetStream for tests and the demo, on free loopback ports with a temp store
 * dir, never the NATS this machine runs on 4222.
 *
 * nats-server 2.9.10 supports everything needed as flags, including JetStream clustering (`--server_name`,
 * `--cluster`, `--cluster_name`, `--routes`; a node listing itself among its routes is fine). Only what flags cannot
 * say (accounts, nkey users, an operator with JWTs: test/harness/nats-auth.ts) goes to `server.conf`, given with
 * `--config`; flags still set ports and the store. Instance dir (`os.tmpdir()/tsdm-test-<name>-XXXXXX`): `js/`
 * (JetStream store; the server adds `js/jetstream/`), `server.log` and `server.conf` if any.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'nats';
import { freePort } from './ports.ts';
import {
  findBinary,
  registerTempDir,
  shouldRemoveData,
  spawnServer,
  stopProcess,
  tailFile,
  unregisterTempDir,
  type Spawned,
} from './processes.ts';
import { sleep } from './wait.ts';

export interface StartNatsOptions {
  /** Server name (`server_name`) and part of the temp dir name; default `nats`. */
  name?: string;
  /** false: start without JetStream (no -js), to test how tsdm reports it. Default true. */
  jetstream?: boolean;
  /** nats-server config text (auth, TLS), written to `server.conf` and given with `--config`. */
  config?: string;
  /** How the harness itself connects to check the server is ready (the credentials `config` asks for). */
  client?: Partial<ConnectionOptions>;
  // No `cluster` flag: nats-server 2.9 refuses JetStream in a cluster without routes ("JetStream cluster requires
  // configured routes"), and a node routed only to itself never elects a meta leader. Use startNatsCluster().
}

export interface NatsInstance {
  readonly name: string;
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** HTTP monitoring port (`/healthz`, `/jsz`, `/varz`). */
  readonly monitorPort: number;
  /** Route port when clustered. */
  readonly clusterPort: number | undefined;
  /** JetStream store dir (`-sd`). */
  readonly dataDir: string;
  readonly baseDir: string;
  readonly logFile: string;
  /** Pid of the running nats-server (changes on restart). */
  readonly pid: number;
  /** GET /healthz answered ok (JetStream enabled and, when clustered, current with the meta leader). */
  healthy(): Promise<boolean>;
  /** SIGTERM (after SIGCONT if paused), wait for exit, remove the temp dir unless TSDM_KEEP_TEST_DATA=1. */
  stop(): Promise<void>;
  /** SIGKILL now. */
  kill(): void;
  /** Stop if running (or wait for the killed process), start again with the same ports and store dir. */
  restart(): Promise<void>;
  /** SIGSTOP: the server stays bound but answers nothing (a hung peer). */
  pause(): void;
  /** SIGCONT */
  resume(): void;
}

export interface NatsCluster {
  readonly nodes: NatsInstance[];
  /** Client URLs of all nodes, for `connect({ servers })`. */
  readonly urls: string[];
  /** The same joined with commas, for a `--nats` flag. */
  readonly url: string;
  /** Waits until every running node is healthy and JetStream answers through the cluster. */
  waitReady(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 15_000;

interface NodeConfig {
  name: string;
  clusterName?: string;
  clusterPort?: number;
  routes?: number[];
  /** false: no -js. */
  jetstream?: boolean;
  /** Ports fixed in advance (cluster members must know each other's route ports). */
  port?: number;
  monitorPort?: number;
  config?: string;
  client?: Partial<ConnectionOptions>;
}

export async function startNats(opts: StartNatsOptions = {}): Promise<NatsInstance> {
  for (let attempt = 1; ; attempt++) {
    const node = await NatsNode.create({
      name: opts.name ?? 'nats',
      jetstream: opts.jetstream !== false,
      ...(opts.config !== undefined ? { config: opts.config } : {}),
      ...(opts.client ? { client: opts.client } : {}),
    });
    try {
      await node.start(opts.jetstream !== false);
      return node;
    } catch (err) {
      // Another process may have bound the port between freePort() and the server's bind: retry on new ports.
      const bindError = /address already in use/i.test(tailFile(node.logFile, 10));
      await node.stop();
      if (attempt >= 3 || !bindError) throw err;
    }
  }
}

export async function startNatsCluster(n = 3, opts: { name?: string } = {}): Promise<NatsCluster> {
  const base = opts.name ?? 'nats';
  const clusterName = `${base}-cluster`;
  const clusterPorts: number[] = [];
  for (let i = 0; i < n; i++) clusterPorts.push(await freePort());
  const nodes: NatsNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push(
      await NatsNode.create({
        name: `${base}-${i + 1}`,
        clusterName,
        clusterPort: clusterPorts[i]!,
        routes: clusterPorts,
        port: await freePort(),
        monitorPort: await freePort(),
      }),
    );
  }
  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((x) => x.url),
    url: nodes.map((x) => x.url).join(','),
    async waitReady(timeoutMs = START_TIMEOUT_MS) {
      const t0 = Date.now();
      let last = '';
      while (Date.now() - t0 < timeoutMs) {
        try {
          const running = nodes.filter((x) => x.running);
          const health = await Promise.all(running.map((x) => x.healthy()));
          if (health.every(Boolean) && (await jetStreamAnswers(cluster.urls))) return;
          last = `healthy: ${running.map((x, i) => `${x.name}=${health[i]}`).join(' ')}`;
        } catch (err) {
          last = (err as Error).message;
        }
        await sleep(100);
      }
      throw new Error(
        `NATS cluster not ready after ${timeoutMs} ms (${last}); logs: ${nodes.map((x) => x.logFile).join(' ')}`,
      );
    },
    async stop() {
      await Promise.all(nodes.map((x) => x.stop()));
    },
  };
  try {
    // Nodes wait only for their client port here: JetStream needs a quorum, which exists once they all run.
    await Promise.all(nodes.map((x) => x.start(false)));
    await cluster.waitReady();
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function jetStreamAnswers(servers: string | string[], client: Partial<ConnectionOptions> = {}): Promise<boolean> {
  const nc = await connect({ ...client, servers, reconnect: false, timeout: 2_000 });
  try {
    const jsm = await nc.jetstreamManager({ timeout: 2_000 });
    await jsm.getAccountInfo();
    return true;
  } finally {
    await nc.close().catch(() => {});
  }
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

class NatsNode implements NatsInstance {
  private proc: Spawned | undefined;
  private stopped = false;
  private paused = false;

  private constructor(
    private readonly cfg: NodeConfig,
    readonly baseDir: string,
    readonly port: number,
    readonly monitorPort: number,
  ) {}

  static async create(cfg: NodeConfig): Promise<NatsNode> {
    const safe = cfg.name.replace(/[^A-Za-z0-9_.-]/g, '_');
    const baseDir = await mkdtemp(join(tmpdir(), `tsdm-test-${safe}-`));
    registerTempDir(baseDir);
    if (cfg.config !== undefined) await writeFile(join(baseDir, 'server.conf'), cfg.config);
    return new NatsNode(cfg, baseDir, cfg.port ?? (await freePort()), cfg.monitorPort ?? (await freePort()));
  }

  get name(): string {
    return this.cfg.name;
  }
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }
  get clusterPort(): number | undefined {
    return this.cfg.clusterPort;
  }
  get dataDir(): string {
    return join(this.baseDir, 'js');
  }
  get logFile(): string {
    return join(this.baseDir, 'server.log');
  }
  get pid(): number {
    return this.proc?.child.pid ?? 0;
  }
  get running(): boolean {
    return !!this.proc && this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  private args(): string[] {
    const a = ['-a', '127.0.0.1', '-p', String(this.port), '-m', String(this.monitorPort)];
    if (this.cfg.jetstream !== false) a.push('-js', '-sd', this.dataDir);
    a.push('--server_name', this.cfg.name);
    if (this.cfg.config !== undefined) a.push('--config', join(this.baseDir, 'server.conf'));
    if (this.cfg.clusterPort) {
      a.push('--cluster', `nats://127.0.0.1:${this.cfg.clusterPort}`, '--cluster_name', this.cfg.clusterName ?? 'tsdm');
      if (this.cfg.routes?.length) a.push('--routes', this.cfg.routes.map((p) => `nats://127.0.0.1:${p}`).join(','));
    }
    return a;
  }

  /** Spawns and waits for TCP + a NATS client connect (+ a JetStream answer when `checkJetStream`). */
  async start(checkJetStream: boolean): Promise<void> {
    const proc = spawnServer(findBinary('nats-server'), this.args(), this.logFile);
    this.proc = proc;
    this.paused = false;
    let exited = false;
    void proc.exited.then(() => (exited = true));
    const t0 = Date.now();
    let last = '';
    while (Date.now() - t0 < START_TIMEOUT_MS) {
      if (exited)
        throw new Error(
          `nats-server '${this.name}' exited during startup (${this.logFile}):\n${tailFile(this.logFile)}`,
        );
      try {
        if (await tcpOpen(this.port)) {
          if (!checkJetStream) {
            const nc = await connect({ ...this.cfg.client, servers: this.url, reconnect: false, timeout: 2_000 });
            await nc.close();
            return;
          }
          if (await jetStreamAnswers(this.url, this.cfg.client)) return;
        } else last = 'port not open';
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(50);
    }
    await stopProcess(proc, 'SIGKILL', 5_000);
    throw new Error(
      `nats-server '${this.name}' not ready within ${START_TIMEOUT_MS / 1000}s (${last}):\n${tailFile(this.logFile)}`,
    );
  }

  async healthy(): Promise<boolean> {
    try {
      const r = await fetch(`http://127.0.0.1:${this.monitorPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
      const body = (await r.json()) as { status?: string };
      return r.ok && body.status === 'ok';
    } catch {
      return false;
    }
  }

  pause(): void {
    if (this.proc?.child.pid) {
      process.kill(this.proc.child.pid, 'SIGSTOP');
      this.paused = true;
    }
  }

  resume(): void {
    if (this.proc?.child.pid) {
      process.kill(this.proc.child.pid, 'SIGCONT');
      this.paused = false;
    }
  }

  kill(): void {
    try {
      this.proc?.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }

  private async halt(): Promise<void> {
    if (!this.proc) return;
    if (this.paused && this.running) this.resume(); // a stopped process would never act on SIGTERM
    await stopProcess(this.proc, 'SIGTERM', STOP_GRACE_MS);
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`nats '${this.name}' was stopped; its store dir is gone`);
    await this.halt();
    // A clustered node cannot answer JetStream requests until a quorum is back: callers use cluster.waitReady().
    await this.start(!this.cfg.routes?.length && this.cfg.jetstream !== false);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.halt();
    if (shouldRemoveData()) await rm(this.baseDir, { recursive: true, force: true });
    unregisterTempDir(this.baseDir);
  }
}
