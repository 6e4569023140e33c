/**
 * bench/relay: the relay's ingest rate (upstream binlog -> zongji -> whole transactions -> LMDB, committed) next to
 * zongji's raw decode rate on the same binlog, measured in one run on this machine (DESIGN.md §6).
 *
 *   npx tsx bench/relay.ts [--rows N] [--txns N]
 *
 * Workloads (each in its own binlog file, read from its start): multi-row transactions (1,000 rows each) and
 * single-row transactions. Three readers go over the same file one after another:
 *   zongji raw     @vlasky/zongji as is (its own table-info fetch), counting rows until the end position;
 *   BinlogReader   tsdm's adapter (schema tracker, normalised values, whole transactions), no storage;
 *   relay ingest   RelayWriter: the adapter plus LMDB appends, timed until the last transaction is durable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ZongJi from '@vlasky/zongji';
import { parseSourceConfig } from '../src/config/index.ts';
import type { DbConfig } from '../src/config/types.ts';
import { SchemaTracker } from '../src/schema/model.ts';
import { comparePos, type BinlogPosition } from '../src/binlog/position.ts';
import { BinlogReader } from '../agent/binlog/zongji-reader.ts';
import { connect, connectionOptions } from '../agent/db/mysql.ts';
import { snapshotTracker } from '../agent/db/tracked.ts';
import { createLogger } from '../agent/log.ts';
import { RelayWriter } from '../agent/relay/writer.ts';
import { startMariaDB, type MariaDBInstance } from '../test/harness/index.ts';
import { sourceYaml } from '../test/harness/tsdm.ts';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const ROWS = arg('rows', 500_000);
const TXNS = arg('txns', 30_000);

async function master(up: MariaDBInstance): Promise<BinlogPosition> {
  const [m] = await up.query('SHOW MASTER STATUS');
  return { name: String(m.File), pos: Number(m.Position) };
}

/** zongji as is: rows decoded per second from (file, 4) to `end`. */
function zongjiRaw(db: DbConfig, file: string, end: BinlogPosition): Promise<{ ms: number; rows: number }> {
  return new Promise((resolve, reject) => {
    type Z = { on(e: string, f: (x: never) => void): void; start(o: unknown): void; stop(): void };
    const zj = new (ZongJi as unknown as new (o: unknown) => Z)(connectionOptions(db));
    let rows = 0;
    let cur = file;
    const t0 = performance.now();
    let done = false;
    zj.on('binlog', (e: { getEventName(): string; rows?: unknown[]; nextPosition: number; binlogName?: string }) => {
      const n = e.getEventName();
      if (n === 'rotate' && e.binlogName) cur = e.binlogName;
      if (e.rows) rows += e.rows.length;
      if (!done && n === 'xid' && comparePos({ name: cur, pos: e.nextPosition }, end) >= 0) {
        done = true;
        const ms = performance.now() - t0;
        zj.stop();
        resolve({ ms, rows });
      }
    });
    zj.on('error', (err: unknown) => {
      if (!done) reject(err);
    });
    zj.start({
      serverId: 990001,
      filename: file,
      position: 4,
      includeEvents: ['rotate', 'tablemap', 'writerows', 'updaterows', 'deleterows', 'xid'],
      includeSchema: { bench: true },
    });
  });
}

/** tsdm's BinlogReader: whole transactions with normalised values, no storage. */
async function adapter(
  db: DbConfig,
  file: string,
  end: BinlogPosition,
  tracker: SchemaTracker,
): Promise<{ ms: number; rows: number }> {
  const r = new BinlogReader({
    db,
    serverId: 990002,
    start: { name: file, pos: 4 },
    tracker,
    allowTable: (s) => s === 'bench',
    live: async () => undefined,
    warn: () => undefined,
  });
  const t0 = performance.now();
  r.start();
  let rows = 0;
  for (;;) {
    const ev = await r.next(5000);
    if (!ev) throw new Error('BinlogReader stalled');
    if (ev.kind === 'txn') rows += ev.changes.length;
    if (ev.kind !== 'txn-part' && comparePos(ev.end, end) >= 0) break;
  }
  const ms = performance.now() - t0;
  await r.stop();
  return { ms, rows };
}

/** RelayWriter from (file, 4): timed until the store's state is at `end` (durably committed). */
async function relay(
  up: MariaDBInstance,
  file: string,
  end: BinlogPosition,
): Promise<{ ms: number; rows: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-bench-relay-'));
  const source = parseSourceConfig(
    `${sourceYaml('bench', up)}relay-binlog-name: ${file}\nserver-id: 990003\n`,
    'bench.yaml',
  );
  const w = new RelayWriter({ agent: 'bench', source, dataDir: dir, log: createLogger('bench', 'error') });
  const t0 = performance.now();
  w.setDesired('Running');
  for (;;) {
    const st = w.store.state();
    if (st && comparePos(st.pos, end) >= 0) break;
    await w.waitAppend(50);
  }
  const ms = performance.now() - t0;
  let rows = 0;
  // The writer goes on streaming past `end` (the next workload's file): count only this workload's records.
  for (const { rec } of w.store.range(w.store.firstSeq(), w.store.state()!.seq))
    if (rec.k === 't' && comparePos(rec.end, end) <= 0) rows += rec.rows.length;
  const bytes = w.store.size().fileBytes;
  await w.close();
  rmSync(dir, { recursive: true, force: true });
  return { ms, rows, bytes };
}

const rate = (rows: number, ms: number) => Math.round(rows / (ms / 1000));
const fmt = (n: number) => n.toLocaleString('en-US');

async function main(): Promise<void> {
  const up = await startMariaDB({ name: 'bench-up', upstream: true });
  try {
    await up.query('CREATE DATABASE bench');
    await up.query(
      'CREATE TABLE bench.sbtest (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY (k))',
    );
    const db = parseSourceConfig(sourceYaml('bench', up), 'bench.yaml').from;
    const workloads: { name: string; file: string; end: BinlogPosition; rows: number; txns: number }[] = [];

    await up.query('FLUSH BINARY LOGS');
    let file = (await master(up)).name;
    for (let i = 0; i < ROWS; i += 1000) {
      await up.query(
        `INSERT INTO bench.sbtest SELECT ${i} + seq, seq % 1000, MD5(seq), REPEAT('p', 60) FROM mysql.seq_1_to_1000`,
      );
    }
    workloads.push({ name: 'multi-row txns (1,000 rows)', file, end: await master(up), rows: ROWS, txns: ROWS / 1000 });

    await up.query('FLUSH BINARY LOGS');
    file = (await master(up)).name;
    // Single-row transactions from 4 connections (each INSERT autocommits).
    const per = Math.ceil(TXNS / 4);
    await Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        const conn = await up.connect();
        try {
          for (let i = 0; i < per; i++)
            await conn.query(
              `INSERT INTO bench.sbtest VALUES (${10_000_000 + c * per + i}, ${i % 1000}, MD5(${i}), 'single')`,
            );
        } finally {
          await conn.end();
        }
      }),
    );
    workloads.push({ name: 'single-row txns', file, end: await master(up), rows: per * 4, txns: per * 4 });

    const conn = await connect(db, 'upstream');
    const trackerJson = (await snapshotTracker(conn, 'upstream')).toJSON();
    conn.destroy();

    console.log(`relay ingest vs zongji raw decode (same binlog, one run, ${new Date().toISOString()})`);
    console.log(
      'workload                      row changes   zongji raw rows/s   BinlogReader rows/s   relay ingest rows/s (txns/s)   relay/zongji   relay MB',
    );
    for (const w of workloads) {
      const z = await zongjiRaw(db, w.file, w.end);
      const a = await adapter(db, w.file, w.end, SchemaTracker.fromJSON(trackerJson));
      const r = await relay(up, w.file, w.end);
      if (z.rows !== w.rows || a.rows !== w.rows || r.rows !== w.rows)
        console.log(`  (row counts: zongji ${z.rows}, adapter ${a.rows}, relay ${r.rows}, expected ${w.rows})`);
      const zr = rate(z.rows, z.ms);
      const rr = rate(r.rows, r.ms);
      console.log(
        `${w.name.padEnd(30)}${fmt(w.rows).padStart(11)}${fmt(zr).padStart(20)}${fmt(rate(a.rows, a.ms)).padStart(22)}${`${fmt(rr)} (${fmt(rate(w.txns, r.ms))})`.padStart(31)}${(rr / zr).toFixed(2).padStart(15)}${(r.bytes / 1048576).toFixed(1).padStart(11)}`,
      );
    }
  } finally {
    await up.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
