/**
 * Private mariadbd instances for tests and the demo: each has its own temp dir (data, socket, pid file, error
 * log), a free loopback port and a root password, and never reads /etc/mysql (`--no-defaults` everywhere), so
 * the MariaDB this machine runs on 3306 is neither touched nor depended on.
 *
 * Layout of an instance dir (`os.tmpdir()/tsdm-test-<name>-XXXXXX`):
 *   data/          datadir (binlog files `data/binlog.NNNNNN` for upstreams)
 *   mysqld.sock    unix socket, used by the harness itself (unambiguous, unlike a TCP port)
 *   mysqld.pid     pid file
 *   tmp/           the server's tmpdir (see below)
 *   error.log      server error log (tail quoted in every start failure)
 *   install.log    mariadb-install-db output (or which template the datadir was copied from)
 *
 * Datadirs are copies of one template per mariadbd build (`os.tmpdir()/tsdm-mariadb-datadir-<key>`, made once by
 * mariadb-install-db under a temporary name and renamed into place, so concurrent test processes never use a half-made
 * one; it stays as a cache, ~115 MB). Running the install script for every server cost 1-2 s of each test file's
 * start on a 2-core machine. TSDM_MARIADB_TEMPLATE=0 runs the install script for each server instead.
 *
 * Each instance needs its own `--tmpdir`: at startup mariadbd deletes every `#sql*` file in its tmpdir, so with
 * the default /tmp one server starting removes the temporary tables of the others (and of the system MariaDB),
 * and parallel `mariadb-install-db` runs fail with "Unknown table 'mysql.tmp_user_sys'".
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
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

export const TEST_PASSWORD = 'tsdm-Test-pw1';

export interface StartMariaDBOptions {
  /** Used in the temp dir name and in error messages. */
  name: string;
  /** Upstream: binlog on (`log_bin`, format and row image below). Downstream (default): no binlog. */
  upstream?: boolean;
  /** Default: 101 for upstreams, 201 for downstreams; give distinct ids when starting several. */
  serverId?: number;
  binlogFormat?: 'ROW' | 'STATEMENT' | 'MIXED';
  binlogRowImage?: 'FULL' | 'MINIMAL';
  /** Appended last, so they override the defaults (e.g. `--binlog-row-metadata=FULL`). */
  extraArgs?: string[];
  /** Parent folder of the instance dir; default `os.tmpdir()`. */
  baseDir?: string;
  /** `+08:00` style offsets become `--default-time-zone`; names (`Asia/Shanghai`) become the server's TZ env. */
  timeZone?: string;
}

export interface MariaDBInstance {
  readonly name: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: 'root';
  readonly password: string;
  readonly socket: string;
  /** The server's datadir. */
  readonly dataDir: string;
  /** The instance dir holding dataDir, socket, pid file and logs. */
  readonly baseDir: string;
  readonly errorLog: string;
  /** Pid of the running mariadbd (changes on restart). */
  readonly pid: number;
  readonly serverId: number;
  readonly upstream: boolean;
  /**
   * Runs SQL on a small pool (multipleStatements on; `dateStrings`, `supportBigNumbers`, `bigNumberStrings`, so
   * values are exact strings). Returns the rows for SELECT, the ResultSetHeader otherwise.
   */
  // biome-ignore lint/suspicious/noExplicitAny: tests read rows of any shape by column name
  query(sql: string, params?: unknown[]): Promise<any>;
  /**
   * A new connection over TCP as root (same options as query); the caller ends it. `charset`: the connection's
   * character set (mysql2 then sends the SQL in it, as `mysql --default-character-set` does).
   */
  connect(opts?: { charset?: string }): Promise<mysql.Connection>;
  /** SIGTERM, wait for a clean shutdown, remove the instance dir (unless TSDM_KEEP_TEST_DATA=1). */
  stop(): Promise<void>;
  /** SIGKILL now (crash test); `restart()` brings it back through crash recovery. */
  kill(): void;
  /** Clean stop if running (or wait for the killed process to go), then start on the same port and datadir. */
  restart(): Promise<void>;
}

const run = promisify(execFile);
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 60_000;
/** Unix socket paths are limited to 108 bytes (sun_path) including the NUL. */
const MAX_SOCKET_PATH = 107;

const clientOptions = {
  user: 'root',
  password: TEST_PASSWORD,
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  multipleStatements: true,
  connectTimeout: 10_000,
} as const;

export async function startMariaDB(opts: StartMariaDBOptions): Promise<MariaDBInstance> {
  const upstream = opts.upstream ?? false;
  const serverId = opts.serverId ?? (upstream ? 101 : 201);
  const safeName = opts.name.replace(/[^A-Za-z0-9_.-]/g, '_');
  const baseDir = await mkdtemp(join(opts.baseDir ?? tmpdir(), `tsdm-test-${safeName}-`));
  registerTempDir(baseDir);
  const dataDir = join(baseDir, 'data');
  const socket = join(baseDir, 'mysqld.sock');
  const errorLog = join(baseDir, 'error.log');
  const pidFile = join(baseDir, 'mysqld.pid');
  try {
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      throw new Error(`socket path ${socket} is longer than ${MAX_SOCKET_PATH} bytes; use a shorter baseDir`);
    }
    const tmp = join(baseDir, 'tmp');
    await mkdir(tmp);
    await freshDataDir(dataDir, tmp, join(baseDir, 'install.log'));

    const env = { ...process.env };
    const args = [
      '--no-defaults',
      '--user=root',
      `--datadir=${dataDir}`,
      `--socket=${socket}`,
      `--pid-file=${pidFile}`,
      `--tmpdir=${tmp}`,
    ];
    args.push(`--log-error=${errorLog}`, '--bind-address=127.0.0.1', `--server-id=${serverId}`);
    args.push('--innodb-buffer-pool-size=128M', '--skip-name-resolve', '--max-connections=500');
    args.push('--innodb-flush-log-at-trx-commit=1');
    if (upstream) {
      args.push(`--log-bin=${join(dataDir, 'binlog')}`, `--binlog-format=${opts.binlogFormat ?? 'ROW'}`);
      args.push(`--binlog-row-image=${opts.binlogRowImage ?? 'FULL'}`);
    }
    if (opts.timeZone) {
      if (/^[+-]\d{1,2}:\d{2}$/.test(opts.timeZone)) args.push(`--default-time-zone=${opts.timeZone}`);
      else env.TZ = opts.timeZone; // named zones need no mysql.time_zone tables this way
    }
    args.push(...(opts.extraArgs ?? []));

    const server = new Server(opts.name, baseDir, dataDir, socket, errorLog, serverId, upstream, args, env);
    await server.firstStart();
    return server;
  } catch (err) {
    if (shouldRemoveData()) await rm(baseDir, { recursive: true, force: true });
    unregisterTempDir(baseDir);
    throw err;
  }
}

/** A new datadir at `dataDir`: a copy of the build's template (made first if missing), or installed (see the header). */
async function freshDataDir(dataDir: string, tmp: string, logFile: string): Promise<void> {
  if (process.env.TSDM_MARIADB_TEMPLATE === '0') return installDb(dataDir, tmp, logFile);
  const template = await templateDataDir();
  await cp(template, dataDir, { recursive: true });
  await writeFile(logFile, `datadir copied from ${template} (made by mariadb-install-db)\n`);
}

let templateP: Promise<string> | undefined;

/** The template datadir of this mariadbd build and user, made now when no process made it before. */
function templateDataDir(): Promise<string> {
  templateP ??= (async () => {
    const bins = [findBinary('mariadbd'), findBinary('mariadb-install-db')];
    const key = createHash('sha256')
      .update(JSON.stringify([process.getuid?.(), ...bins.map((b) => [b, statSync(b).size, statSync(b).mtimeMs])]))
      .digest('hex')
      .slice(0, 16);
    const dir = join(tmpdir(), `tsdm-mariadb-datadir-${key}`);
    const data = join(dir, 'data');
    if (existsSync(join(dir, 'complete'))) return data;
    const work = await mkdtemp(`${dir}.making-`);
    try {
      await mkdir(join(work, 'tmp'));
      await installDb(join(work, 'data'), join(work, 'tmp'), join(work, 'install.log'));
      await writeFile(join(work, 'complete'), '');
      // Another process may have renamed its own into place meanwhile: then this one is dropped and that one used.
      await rename(work, dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
    if (!existsSync(join(dir, 'complete'))) throw new Error(`the template datadir ${dir} was not made`);
    return data;
  })();
  templateP.catch(() => (templateP = undefined));
  return templateP;
}

async function installDb(dataDir: string, tmp: string, logFile: string): Promise<void> {
  const bin = findBinary('mariadb-install-db');
  const args = [
    '--no-defaults',
    '--user=root',
    `--datadir=${dataDir}`,
    '--auth-root-authentication-method=normal',
    '--skip-test-db',
  ];
  args.push(`--tmpdir=${tmp}`); // unknown to the script, passed on to the bootstrap mariadbd
  try {
    const { stdout, stderr } = await run(bin, args, { timeout: 120_000, maxBuffer: 16 << 20 });
    await writeFile(logFile, stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`mariadb-install-db failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

function isBindError(log: string): boolean {
  return /Address already in use|Bind on TCP\/IP port|Can't start server: Bind/i.test(log);
}

class Server implements MariaDBInstance {
  readonly host = '127.0.0.1' as const;
  readonly user = 'root' as const;
  readonly password = TEST_PASSWORD;
  port = 0;
  private proc: Spawned | undefined;
  private pool: mysql.Pool | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    readonly baseDir: string,
    readonly dataDir: string,
    readonly socket: string,
    readonly errorLog: string,
    readonly serverId: number,
    readonly upstream: boolean,
    private readonly baseArgs: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get pid(): number {
    return this.proc?.child.pid ?? 0;
  }

  /** Picks a port (a new one if another process grabbed it between freePort and bind), starts, sets passwords. */
  async firstStart(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.port = await freePort();
      try {
        await this.spawnAndWait(false);
        break;
      } catch (err) {
        if (attempt >= 3 || !isBindError(tailFile(this.errorLog, 10))) throw err;
      }
    }
    await this.setPasswords();
    this.pool = this.makePool();
  }

  private async spawnAndWait(passwordSet: boolean): Promise<void> {
    const bin = findBinary('mariadbd');
    const t0 = Date.now();
    const proc = spawnServer(
      bin,
      [...this.baseArgs, `--port=${this.port}`],
      join(this.baseDir, 'stdout.log'),
      this.env,
    );
    this.proc = proc;
    let exited = false;
    void proc.exited.then(() => (exited = true));
    let lastErr = '';
    while (Date.now() - t0 < START_TIMEOUT_MS) {
      if (exited) {
        throw new Error(
          `mariadbd '${this.name}' exited during startup (${this.errorLog}):\n${tailFile(this.errorLog)}`,
        );
      }
      try {
        const c = await mysql.createConnection({
          socketPath: this.socket,
          user: 'root',
          password: passwordSet ? TEST_PASSWORD : '',
        });
        try {
          const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT @@datadir AS d, @@port AS p');
          // The socket lives in our private dir, but check anyway that this is our server before trusting it.
          if (!String(rows[0]?.d).startsWith(this.dataDir) || Number(rows[0]?.p) !== this.port) {
            throw new Error(`unexpected server on ${this.socket}: datadir ${rows[0]?.d}, port ${rows[0]?.p}`);
          }
          return;
        } finally {
          await c.end().catch(() => {});
        }
      } catch (err) {
        lastErr = (err as Error).message;
        if (lastErr.startsWith('unexpected server')) throw err;
      }
      await sleep(50);
    }
    await stopProcess(proc, 'SIGKILL', 5_000);
    throw new Error(
      `mariadbd '${this.name}' did not accept connections within ${START_TIMEOUT_MS / 1000}s (last error: ${lastErr}); ` +
        `error log ${this.errorLog}:\n${tailFile(this.errorLog)}`,
    );
  }

  /**
   * mariadb-install-db leaves root@localhost, root@127.0.0.1, root@::1 and root@<hostname> without a password.
   * Give the loopback ones the test password and drop the hostname one (ignored under --skip-name-resolve), so
   * wrong-password tests are meaningful.
   */
  private async setPasswords(): Promise<void> {
    const c = await mysql.createConnection({ socketPath: this.socket, user: 'root', password: '' });
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>("SELECT Host AS h FROM mysql.user WHERE User = 'root'");
      for (const r of rows) {
        const h = String(r.h);
        if (!['localhost', '127.0.0.1', '::1'].includes(h)) await c.query('DROP USER ?@?', ['root', h]);
      }
      for (const h of ['localhost', '127.0.0.1', '::1']) {
        await c.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', ['root', h, TEST_PASSWORD]);
        await c.query('ALTER USER ?@? IDENTIFIED BY ?', ['root', h, TEST_PASSWORD]);
        await c.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', ['root', h]);
      }
      await c.query('FLUSH PRIVILEGES');
    } finally {
      await c.end().catch(() => {});
    }
  }

  private makePool(): mysql.Pool {
    return mysql.createPool({ ...clientOptions, host: this.host, port: this.port, connectionLimit: 4, maxIdle: 4 });
  }

  private async endPool(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    if (p) await p.end().catch(() => {});
  }

  // biome-ignore lint/suspicious/noExplicitAny: tests read rows of any shape by column name
  async query(sql: string, params?: unknown[]): Promise<any> {
    if (!this.pool) throw new Error(`mariadb '${this.name}' is not running`);
    const [rows] = await this.pool.query(sql, params);
    return rows;
  }

  connect(opts?: { charset?: string }): Promise<mysql.Connection> {
    return mysql.createConnection({
      ...clientOptions,
      host: this.host,
      port: this.port,
      ...(opts?.charset ? { charset: opts.charset } : {}),
    });
  }

  kill(): void {
    try {
      this.proc?.child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`mariadb '${this.name}' was stopped; its data dir is gone`);
    await this.endPool();
    if (this.proc) await stopProcess(this.proc, 'SIGTERM', STOP_GRACE_MS);
    await this.spawnAndWait(true);
    this.pool = this.makePool();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.endPool();
    if (this.proc) await stopProcess(this.proc, 'SIGTERM', STOP_GRACE_MS);
    if (shouldRemoveData()) await rm(this.baseDir, { recursive: true, force: true });
    unregisterTempDir(this.baseDir);
  }
}
