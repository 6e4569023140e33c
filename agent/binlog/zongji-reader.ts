import { EventSchema } from './event-schema.ts';
import ZongJi from '@vlasky/zongji';
import type { DbConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { connectionOptions } from '../db/mysql.ts';
import type { BinlogEvent, QueryEvent, RowChange } from './events.ts';
import { serverCollationId } from './status-vars.ts';
import { toColumnDefs } from '../../src/schema/from-server.ts';
import type { SchemaTracker, TrackedTable } from '../../src/schema/model.ts';
import { type BinlogPosition } from '../../src/binlog/position.ts';
import { MariaGtidState } from './mariadb-gtid.ts';
import { hash } from '../hash.ts';
import type { ZEvent, ZInstance } from './zongji-types.ts';
import { EventQueue } from './event-queue.ts';
import { diagnoseStreamStart, streamError } from './stream-error.ts';
import { checkRowImage, pushRowChanges } from './row-events.ts';
import { installFastTextDecode } from './text-decode.ts';
import { installFastRowDecode } from './row-decode.ts';
import { installQueryBytes, queryText } from './query-text.ts';

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
 *     resumed below `lowWater`, so memory stays bounded whatever the consumer's speed (event-queue.ts).
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
  /**
   * Read a transaction in parts (TxnPartEvent) once it holds this many row changes, or rows events of CHUNK_BYTES: the
   * reader then never holds more of one transaction than that (the queue's backpressure bounds the rest). Unset: whole
   * transactions only (the relay stores them as one record each).
   */
  chunkRows?: number;
}

/** Binlog bytes of rows events after which an open transaction's changes go out as a part (with `chunkRows`): wide rows
 * (BLOBs) reach it long before the row count. */
export const CHUNK_BYTES = 8 << 20;

/** True when the binlog's column names are the tracked table's, ignoring case (a loop: this runs at every table map,
 * i.e. every transaction, and the names are almost always the same strings). */
function sameNames(t: TrackedTable, names: string[]): boolean {
  const cols = t.columns;
  if (cols.length !== names.length) return false;
  for (let i = 0; i < cols.length; i++) {
    const a = cols[i]!.name;
    const b = names[i]!;
    if (a !== b && a.toLowerCase() !== b.toLowerCase()) return false;
  }
  return true;
}

export class BinlogReader {
  private zj: ZInstance | undefined;
  private readonly events: EventQueue;
  private stopped = false;
  private file: string;
  private inTxn: RowChange[] | undefined;
  /** The open transaction's earlier changes went out as parts; `inTxnBytes`: binlog bytes of its rows since the last. */
  private inParts = false;
  private inTxnBytes = 0;
  private readonly gtid: MariaGtidState;
  private pendingGtid: { domain: number; server: number; seq: string } | undefined;
  /** The schema as of the event being read (its table structures are cleared at each DDL, with zongji's cache). */
  private readonly schemaAt: EventSchema;
  /** The offset in `file` the stream stands at (its start, then each commit's end): where a 1236 is diagnosed. */
  private at: number;
  /** A 1236 is being diagnosed (fail): later errors of the dying stream are noise. */
  private diagnosing = false;

  constructor(private readonly o: ReaderOptions) {
    this.schemaAt = new EventSchema(o);
    this.file = o.start.name;
    this.at = o.start.pos;
    this.gtid = new MariaGtidState(o.start.gtid ?? '');
    this.events = new EventQueue(() => this.zj?.connection, o.highWater ?? 50_000, o.lowWater ?? 10_000);
  }

  get queuedEvents(): number {
    return this.events.length;
  }
  get isPaused(): boolean {
    return this.events.isPaused;
  }

  start(): void {
    installFastTextDecode(); // latin1 text columns decoded without iconv-lite when that is exact (text-decode.ts)
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
      if (this.events.failed) return; // the stream is broken: later events are not read (event-queue.ts push)
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
    // Row images are decoded by row-decode.ts (installed once per process, before the first stream starts).
    const opts = {
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
    };
    Promise.all([installFastRowDecode(), installQueryBytes()]).then(
      () => this.stopped || zj.start(opts),
      (err: unknown) => this.fail(err),
    );
  }

  private fail(err: unknown): void {
    if (this.stopped || this.events.failed || this.diagnosing) return;
    const e = streamError(err, this.file, this.o.serverId);
    if ((err as { errno?: number }).errno !== 1236 || !this.file) {
      this.events.fail(e);
      return;
    }
    // 1236 is one errno for a purged file, a file that never existed and an offset inside an event: what the server
    // lists tells them apart (start-position.ts), so a wrong position is not reported as a purge.
    this.diagnosing = true;
    const at = { name: this.file, pos: this.at };
    diagnoseStreamStart(this.o.db, at, e).then(
      (d) => this.stopped || this.events.fail(d),
      () => this.stopped || this.events.fail(e),
    );
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
    const continued = this.inParts;
    this.open(undefined);
    this.at = e.nextPosition;
    this.events.push({
      kind: 'txn',
      changes,
      end: this.pos(e.nextPosition),
      timestamp: e.timestamp / 1000,
      ...(continued ? { continued } : {}),
    });
  }

  /** A transaction starts (`[]`) or is over (undefined). */
  private open(txn: RowChange[] | undefined): void {
    this.inTxn = txn;
    this.inParts = false;
    this.inTxnBytes = 0;
  }

  /** Hands out the open transaction's changes so far as a part once they pass `chunkRows` or CHUNK_BYTES. */
  private maybePart(txn: RowChange[], e: ZEvent): void {
    const max = this.o.chunkRows;
    if (!max) return;
    this.inTxnBytes += e.size ?? 0;
    if (txn.length < max && this.inTxnBytes < CHUNK_BYTES) return;
    this.events.push({ kind: 'txn-part', changes: txn });
    this.inTxn = [];
    this.inParts = true;
    this.inTxnBytes = 0;
  }

  private onEvent(e: ZEvent): void {
    const name = e.getEventName();
    switch (name) {
      case 'rotate':
        if (e.binlogName) this.file = e.binlogName;
        if (e.position !== undefined) this.at = e.position;
        return;
      case 'mariadbgtid':
        this.pendingGtid = { domain: e.domainId ?? 0, server: e.serverId ?? 0, seq: String(e.seqNo ?? 0) };
        if (!e.standalone) this.open([]);
        return;
      case 'gtid':
        return;
      case 'tablemap':
        this.onTableMap(e);
        return;
      case 'query': {
        const sql = queryText(e).trim(); // in the client's character set (query-text.ts)
        const upper = sql.toUpperCase();
        if (upper === 'BEGIN') {
          this.open([]);
          return;
        }
        if (upper === 'COMMIT') {
          this.commit(e);
          return;
        }
        if (upper === 'ROLLBACK') {
          // Parts already handed out are dropped by the consumer (their downstream transaction rolls back too).
          if (this.inParts) this.events.push({ kind: 'txn-part', changes: [], rollback: true });
          this.open(undefined);
          this.pendingGtid = undefined;
          return;
        }
        if (this.inTxn && (this.inTxn.length > 0 || this.inParts)) {
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
        this.open(undefined);
        const q: QueryEvent = {
          kind: 'query',
          schema: e.schema ?? '',
          sql,
          end: this.pos(e.nextPosition),
          timestamp: e.timestamp / 1000,
          trackerAfter,
          tablesBefore,
        };
        const collation = serverCollationId(e.statusVarsBytes ?? e.statusVars);
        if (collation !== undefined) q.serverCollation = collation;
        this.events.push(q);
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
        checkRowImage(e, tm, op, this.file);
        const txn = this.inTxn ?? (this.inTxn = []);
        const info = this.schemaAt.cachedInfo(tm.parentSchema, tm.tableName);
        if (!info)
          throw new DmError('Internal', `row event for ${tm.parentSchema}.${tm.tableName} without its structure`, {
            context: { position: this.file },
          });
        pushRowChanges(txn, e, tm, op, info);
        this.maybePart(txn, e);
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
    if (e.columnNames && t && !sameNames(t, e.columnNames)) {
      const tracked = t.columns.map((c) => c.name);
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
    if (!this.schemaAt.cachedInfo(schema, table)) {
      if (!t)
        throw new DmError('UnsupportedEvent', `no tracked schema for ${schema}.${table} at ${this.file}`, {
          context: { table: `${schema}.${table}`, position: this.file },
        });
      this.schemaAt.info(t);
    }
  }

  /** The next event, waiting for one; rejects with the stream's error. */
  next(timeoutMs = 1000): Promise<BinlogEvent | undefined> {
    return this.events.next(timeoutMs);
  }

  poll(): BinlogEvent | undefined {
    return this.events.poll();
  }

  /**
   * Where the stream is, counting events that produce nothing to apply (rotations, checkpoints, heartbeats), when
   * that is a safe place to resume: nothing buffered and no transaction half read. zongji keeps this position
   * frozen inside transactions, so it never points between a table map and its rows.
   */
  streamPosition(): BinlogPosition | undefined {
    const o = this.zj?.options;
    if (!o?.filename || !o.position || this.events.length > 0 || this.inTxn) return undefined;
    const gtid = this.gtid.toString();
    return gtid ? { name: o.filename, pos: o.position, gtid } : { name: o.filename, pos: o.position };
  }

  /** Peek without waiting: true when nothing is buffered. */
  get idle(): boolean {
    return this.events.length === 0;
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
