import { EventSchema } from './event-schema.ts';
import ZongJi from '@vlasky/zongji';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { connectionOptions, type Value } from '../db/mysql.ts';
import type { BinlogEvent, QueryEvent, RowChange, RowImage } from './events.ts';
import { serverCollationId } from './status-vars.ts';
import { toColumnDefs } from '../../src/schema/from-server.ts';
import type { SchemaTracker, TrackedTable } from '../../src/schema/model.ts';
import { fixNegativeTime2, time2Columns } from './time-fix.ts';
import { type BinlogPosition } from '../../src/binlog/position.ts';
import { MariaGtidState } from './mariadb-gtid.ts';
import { hash } from '../hash.ts';

/** The server id a binlog connection registers with: the source's `server-id` (0: none), or one derived from `key` (stable
 * across restarts, in the upper half of the id space so it never collides with a configured replica's id). */
export function binlogServerId(configured: number, key: string): number {
  return configured || 0x40000000 + (hash(key) % 0x3fffffff);
}

/**
 * The one adapter over @vlasky/zongji. It turns zongji's events into whole transactions (TxnEvent), standalone
 * statements (QueryEvent) and progress markers, with the position right after each commit.
 *
 * Three zongji traps are handled here (DESIGN.md §8):
 *  1. zongji names columns from the live information_schema: `_fetchTableInfo` is replaced by our SchemaProvider,
 *     and the cached table maps are dropped at every DDL so a same-width ALTER (MODIFY) is never decoded with the
 *     old types.
 *  2. zongji has no backpressure: the binlog connection is paused above `highWater` queued row changes and
 *     resumed below `lowWater`, so memory stays bounded whatever the consumer's speed.
 *  3. errors after stop() are noise and are dropped.
 */

export interface ReaderOptions {
  db: DbConfig;
  serverId: number;
  start: BinlogPosition;
  allowTable: (schema: string, table: string) => boolean;
  /** The upstream schema as of `start`; the reader applies every DDL to it in stream order. */
  tracker: SchemaTracker;
  /** The table as the upstream describes it now: used only for tables the tracker cannot model (logged). */
  live: (schema: string, table: string) => Promise<TrackedTable | undefined>;
  warn: (msg: string, detail: Record<string, unknown>) => void;
  highWater?: number;
  lowWater?: number;
}

// zongji ships JS with loose typings; this is the subset we touch.
interface ZEvent {
  getEventName(): string;
  nextPosition: number;
  timestamp: number;
  binlogName?: string;
  position?: number;
  query?: string;
  /** Query event status variables, decoded by zongji as UTF-8 text (binlog/status-vars.ts). */
  statusVars?: string;
  schema?: string;
  tableId?: number;
  rows?: unknown[];
  tableMap?: Record<number, { parentSchema: string; tableName: string; columns?: { name: string; type: number }[] }>;
  domainId?: number;
  serverId?: number;
  seqNo?: number | string;
  standalone?: boolean;
  gtid?: string;
  schemaName?: string;
  tableName?: string;
  columnNames?: string[];
  columns_present_bitmap?: Buffer;
  columns_present_bitmap2?: Buffer;
  /** Rows event flags: 0x0002 NO_FOREIGN_KEY_CHECKS_F (the writing session had foreign_key_checks=0). */
  flags?: number;
}

/** True when the row image bitmap marks every one of the table's `n` columns present. */
function allPresent(bitmap: Buffer | undefined, n: number): boolean {
  if (!bitmap) return false;
  for (let i = 0; i < n; i++) if (((bitmap[i >> 3] ?? 0) & (1 << (i & 7))) === 0) return false;
  return true;
}
interface ZTableMapEvent {
  tableId: number;
  schemaName: string;
  tableName: string;
  columnCount: number;
}
interface ZInstance {
  on(ev: 'binlog', fn: (e: ZEvent) => void): void;
  on(ev: 'error', fn: (e: unknown) => void): void;
  on(ev: 'ready' | 'stopped', fn: () => void): void;
  start(o: Record<string, unknown>): void;
  stop(): void;
  connection: { pause(): void; resume(): void } | null;
  tableMap: Record<number, unknown>;
  _fetchTableInfo: (e: ZTableMapEvent, next: () => void) => void;
  _skipSchema: (db: string, table: string) => boolean;
  options: { filename?: string; position?: number };
  emit(ev: string, arg: unknown): void;
}

function normaliseValue(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return v;
  // -0 is a distinct DOUBLE value upstream; String(-0) would print 0.
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  // JSON columns decode to objects; MariaDB stores JSON as text, so its text form is what we write.
  return JSON.stringify(v);
}

function normaliseRow(r: unknown, time2: string[]): RowImage {
  const out: RowImage = {};
  for (const [k, v] of Object.entries(r as Record<string, unknown>)) out[k] = normaliseValue(v);
  for (const c of time2) {
    const v = out[c];
    if (typeof v === 'string' && v.startsWith('-')) out[c] = fixNegativeTime2(v);
  }
  return out;
}

export class BinlogReader {
  private zj: ZInstance | undefined;
  private readonly queue: BinlogEvent[] = [];
  private queuedRows = 0;
  private waiter: (() => void) | undefined;
  private error: DmError | undefined;
  private stopped = false;
  private paused = false;
  private file: string;
  private inTxn: RowChange[] | undefined;
  private readonly gtid: MariaGtidState;
  private pendingGtid: { domain: number; server: number; seq: string } | undefined;
  private readonly highWater: number;
  private readonly lowWater: number;
  /** The schema as of the event being read (its table structures are cleared at each DDL, with zongji's cache). */
  private readonly schemaAt: EventSchema;

  constructor(private readonly o: ReaderOptions) {
    this.schemaAt = new EventSchema(o);
    this.file = o.start.name;
    this.gtid = new MariaGtidState(o.start.gtid ?? '');
    this.highWater = o.highWater ?? 50_000;
    this.lowWater = o.lowWater ?? 10_000;
  }

  get queuedEvents(): number {
    return this.queue.length;
  }
  get isPaused(): boolean {
    return this.paused;
  }

  start(): void {
    const zj = new (ZongJi as unknown as new (dsn: unknown) => ZInstance)(connectionOptions(this.o.db));
    this.zj = zj;
    zj._skipSchema = (db, table) => !this.o.allowTable(db, table);
    // Row events are decoded with the tracked structure, in stream order: zongji asks here at each table map it has
    // not cached, and every DDL clears that cache after updating the tracker (onEvent, 'query').
    zj._fetchTableInfo = (e, next) => {
      const where = this.file;
      const use = (t: TrackedTable) => {
        try {
          this.schemaAt.checkWidth(t, e.columnCount, 'the binlog event', where);
        } catch (err) {
          this.fail(err);
          return;
        }
        this.schemaAt.info(t);
        zj.tableMap[e.tableId] = { columnSchemas: toColumnDefs(t), parentSchema: e.schemaName, tableName: e.tableName };
        next();
      };
      const tracked = this.schemaAt.tracked(e.schemaName, e.tableName);
      if (tracked) {
        use(tracked);
        return;
      }
      this.schemaAt
        .table(e.schemaName, e.tableName, `table map at ${where}`)
        .then(use, (err: unknown) => this.fail(err));
    };
    zj.on('binlog', (e) => {
      try {
        this.onEvent(e);
      } catch (err) {
        this.fail(err);
      }
    });
    zj.on('error', (err) => this.fail(err));
    const from = this.o.start.name
      ? { filename: this.o.start.name, position: this.o.start.pos }
      : { gtidSet: this.o.start.gtid ?? '' };
    zj.start({
      serverId: this.o.serverId,
      ...from,
      includeEvents: [
        'rotate',
        'tablemap',
        'writerows',
        'updaterows',
        'deleterows',
        'query',
        'xid',
        'mariadbgtid',
        'gtid',
      ],
    });
  }

  private fail(err: unknown): void {
    if (this.stopped || this.error) return;
    const e = err as { errno?: number; code?: string; message?: string };
    if (err instanceof DmError) this.error = err;
    else if (e.errno === 1236) {
      // 1236 is one errno for several causes; the server's text is the only discriminator it gives.
      const invalid =
        /position|file size|not find.*gtid|gtid.*not/i.test(e.message ?? '') &&
        !/could not find first log file/i.test(e.message ?? '');
      this.error = new DmError(
        invalid ? 'BinlogPositionInvalid' : 'BinlogPurged',
        `binlog stream from ${this.file} failed: ${e.message}`,
        { cause: err, context: { position: this.file, errno: 1236 } },
      );
    } else if (e.errno === 4052) {
      this.error = new DmError(
        'BinlogServerIdConflict',
        `the upstream dropped this binlog stream (server-id ${this.o.serverId}): another replica connected with the same server-id: ${e.message}`,
        { cause: err, context: { position: this.file, errno: 4052 } },
      );
    } else if (e.errno === 1045)
      this.error = new DmError('UpstreamAuth', `binlog connection rejected: ${e.message}`, { cause: err });
    else
      this.error = new DmError('BinlogStream', `binlog stream broke at ${this.file}: ${e.message ?? String(err)}`, {
        cause: err,
        context: { position: this.file },
      });
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private push(ev: BinlogEvent): void {
    this.queue.push(ev);
    if (ev.kind === 'txn') this.queuedRows += ev.changes.length;
    if (!this.paused && this.queuedRows > this.highWater) {
      this.paused = true;
      this.zj?.connection?.pause();
    }
    this.wake();
  }

  private pos(next: number): BinlogPosition {
    const gtid = this.gtid.toString();
    return gtid ? { name: this.file, pos: next, gtid } : { name: this.file, pos: next };
  }

  private commit(e: ZEvent): void {
    if (this.pendingGtid) {
      this.gtid.add(this.pendingGtid.domain, this.pendingGtid.server, this.pendingGtid.seq);
      this.pendingGtid = undefined;
    }
    const changes = this.inTxn ?? [];
    this.inTxn = undefined;
    this.push({ kind: 'txn', changes, end: this.pos(e.nextPosition), timestamp: e.timestamp / 1000 });
  }

  private onEvent(e: ZEvent): void {
    const name = e.getEventName();
    switch (name) {
      case 'rotate':
        if (e.binlogName) this.file = e.binlogName;
        return;
      case 'mariadbgtid':
        this.pendingGtid = { domain: e.domainId ?? 0, server: e.serverId ?? 0, seq: String(e.seqNo ?? 0) };
        if (!e.standalone) this.inTxn = [];
        return;
      case 'gtid':
        return;
      case 'tablemap':
        this.onTableMap(e);
        return;
      case 'query': {
        const sql = (e.query ?? '').trim();
        const upper = sql.toUpperCase();
        if (upper === 'BEGIN') {
          this.inTxn = [];
          return;
        }
        if (upper === 'COMMIT') {
          this.commit(e);
          return;
        }
        if (upper === 'ROLLBACK') {
          this.inTxn = undefined;
          this.pendingGtid = undefined;
          return;
        }
        if (this.inTxn && this.inTxn.length > 0) {
          throw new DmError(
            'UnsupportedEvent',
            `statement inside a row transaction (binlog_format must be ROW): ${sql.slice(0, 200)}`,
            { context: { sql, position: `${this.file}:${e.nextPosition}` } },
          );
        }
        // A DDL: the schema at event time follows it now, in stream order; zongji's cached table maps go with it, so
        // the next row event of any table is decoded with the schema as of after this statement (event-schema.ts).
        const { tablesBefore, trackerAfter } = this.schemaAt.applyStatement(
          sql,
          e.schema ?? '',
          `${this.file}:${e.nextPosition}`,
        );
        for (const k of Object.keys(this.zj?.tableMap ?? {})) delete this.zj!.tableMap[Number(k)];
        if (this.pendingGtid) {
          this.gtid.add(this.pendingGtid.domain, this.pendingGtid.server, this.pendingGtid.seq);
          this.pendingGtid = undefined;
        }
        this.inTxn = undefined;
        const q: QueryEvent = {
          kind: 'query',
          schema: e.schema ?? '',
          sql,
          end: this.pos(e.nextPosition),
          timestamp: e.timestamp / 1000,
          trackerAfter,
          tablesBefore,
        };
        const collation = serverCollationId(e.statusVars);
        if (collation !== undefined) q.serverCollation = collation;
        this.push(q);
        return;
      }
      case 'xid':
        this.commit(e);
        return;
      case 'writerows':
      case 'updaterows':
      case 'deleterows': {
        const tm = e.tableMap?.[e.tableId ?? -1];
        if (!tm) return;
        const op = name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete';
        // zongji fills columns missing from a MINIMAL/NOBLOB row image with NULL: applying that would silently lose
        // data, so an incomplete image stops the task (a session can override binlog_row_image).
        const n = tm.columns?.length ?? 0;
        if (
          !allPresent(e.columns_present_bitmap, n) ||
          (op === 'update' && !allPresent(e.columns_present_bitmap2, n))
        ) {
          throw new DmError(
            'UpstreamBinlogRowImage',
            `the upstream did not log every column of ${tm.parentSchema}.${tm.tableName} (${op} at ${this.file}, before ${e.nextPosition}): the session that wrote it did not use binlog_row_image=FULL`,
            {
              context: { table: `${tm.parentSchema}.${tm.tableName}`, position: `${this.file}:${e.nextPosition}` },
              suggestion:
                'Set binlog_row_image=FULL globally and in every application session; then skip nothing: re-migrate the table (start-task --remove-meta) or repair it by hand, because the row change itself is incomplete.',
            },
          );
        }
        const txn = this.inTxn ?? (this.inTxn = []);
        const t2 = time2Columns(tm.columns);
        const info = this.schemaAt.cachedInfo(tm.parentSchema, tm.tableName);
        if (!info)
          throw new DmError('Internal', `row event for ${tm.parentSchema}.${tm.tableName} without its structure`, {
            context: { position: this.file },
          });
        // The upstream session ran without foreign-key checks: its change cascaded nothing there (foreign-keys.ts).
        const noFk = ((e.flags ?? 0) & 0x0002) !== 0 ? { noFkChecks: true as const } : {};
        for (const r of e.rows ?? []) {
          if (op === 'update') {
            const u = r as { before: unknown; after: unknown };
            txn.push({
              op,
              schema: tm.parentSchema,
              table: tm.tableName,
              before: normaliseRow(u.before, t2),
              after: normaliseRow(u.after, t2),
              info,
              ...noFk,
            });
          } else if (op === 'insert')
            txn.push({ op, schema: tm.parentSchema, table: tm.tableName, after: normaliseRow(r, t2), info, ...noFk });
          else
            txn.push({ op, schema: tm.parentSchema, table: tm.tableName, before: normaliseRow(r, t2), info, ...noFk });
        }
        return;
      }
      default:
        return;
    }
  }

  /**
   * With binlog_row_metadata=FULL the event names its columns and zongji decodes from that alone (no fetch): the
   * tracker must still agree, since keys and generated columns come from it. A disagreement is an error, never a
   * guess.
   */
  private onTableMap(e: ZEvent): void {
    const schema = e.schemaName ?? '';
    const table = e.tableName ?? '';
    const t = this.schemaAt.tracked(schema, table);
    if (e.columnNames && t) {
      const tracked = t.columns.map((c) => c.name);
      const same =
        tracked.length === e.columnNames.length &&
        tracked.every((n, i) => n.toLowerCase() === e.columnNames![i]!.toLowerCase());
      if (!same) {
        throw new DmError(
          'UnsupportedEvent',
          `schema tracker and binlog metadata disagree on ${schema}.${table} at ${this.file}: tracked (${tracked.join(', ')}), binlog (${e.columnNames.join(', ')})`,
          {
            context: { table: `${schema}.${table}`, position: this.file },
            suggestion:
              'Report this with the DDL history of the table; restart the task with --remove-meta to rebuild the tracked schema.',
          },
        );
      }
    }
    if (!this.schemaAt.cachedInfo(schema, table)) {
      if (!t)
        throw new DmError('UnsupportedEvent', `no tracked schema for ${schema}.${table} at ${this.file}`, {
          context: { table: `${schema}.${table}`, position: this.file },
        });
      this.schemaAt.info(t);
    }
  }

  /** The next event, waiting for one; rejects with the stream's error. */
  async next(timeoutMs = 1000): Promise<BinlogEvent | undefined> {
    if (this.queue.length === 0 && !this.error) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.waiter = undefined;
          resolve();
        }, timeoutMs);
        this.waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const ev = this.queue.shift();
    if (ev) {
      if (ev.kind === 'txn') this.queuedRows -= ev.changes.length;
      if (this.paused && this.queuedRows < this.lowWater) {
        this.paused = false;
        this.zj?.connection?.resume();
      }
      return ev;
    }
    if (this.error) throw this.error;
    return undefined;
  }

  /**
   * Where the stream is, counting events that produce nothing to apply (rotations, checkpoints, heartbeats), when
   * that is a safe place to resume: nothing buffered and no transaction half read. zongji keeps this position
   * frozen inside transactions, so it never points between a table map and its rows.
   */
  streamPosition(): BinlogPosition | undefined {
    const o = this.zj?.options;
    if (!o?.filename || !o.position || this.queue.length > 0 || this.inTxn) return undefined;
    const gtid = this.gtid.toString();
    return gtid ? { name: o.filename, pos: o.position, gtid } : { name: o.filename, pos: o.position };
  }

  /** Peek without waiting: true when nothing is buffered. */
  get idle(): boolean {
    return this.queue.length === 0;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const zj = this.zj;
    if (!zj) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      zj.on('stopped', () => {
        clearTimeout(t);
        resolve();
      });
      zj.stop();
    });
  }
}
