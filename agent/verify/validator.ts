import type { Connection } from 'mysql2/promise';
import type { TaskConfig, ValidatorConfig } from '../../src/config/types.ts';
import type { ValidationStatus, ValidationTableStatus } from '../../src/coord/records.ts';
import { quoteIdent, type TableName, tableKey } from '../../src/sql/table-name.ts';
import { connect, isTransient, queryExact, type Value } from '../db/mysql.ts';
import { exactRead, loadTableInfo, type ColumnInfo } from '../db/schema.ts';
import { taskZone } from '../db/timezone.ts';
import type { Logger } from '../log.ts';
import type { RoutedChange } from '../sync/dispatcher.ts';
import type { AppliedRows } from '../sync/state.ts';
import { display, kindOf, type ValueKind } from './normalize.ts';
import { validatorErrorTable } from '../checkpoint-tables.ts';
import { countErrors, ensureErrorTable, insertError } from './validator-errors.ts';
import { type PendingRow, ValidatorQueue } from './validator-queue.ts';
import { EventKind, type EventInput } from '../../src/events/record.ts';
import { canonicalKey, expectations, sameValue } from './validator-rows.ts';

/**
 * Continuous validation of one subtask (DM's validator, issue #15): sync tells it of every row change it committed
 * (AppliedRows); worker-count workers read those rows back downstream in batches by table (`WHERE key IN (...)`)
 * and compare — fast: the row exists (or is absent after a delete); full: every column, exactly as check-data
 * compares (normalize.ts). A row that differs is read again until row-error-delay has passed since sync applied it,
 * then it is an error row in `<meta>.<task>_validator_error_change` (validator-errors.ts). Never pauses sync: its own
 * failures show in its status (`result`), and a queue over max-pending-row-count stops it.
 */

export interface ValidatorInit {
  task: TaskConfig;
  source: string;
  mode: 'fast' | 'full';
  cfg: ValidatorConfig;
  log: Logger;
  /** The status changed (the subtask publishes it with its own). */
  report(s: ValidationStatus): void;
  /** Something a human should know (dm_events): never blocks, never throws. */
  event?(e: Omit<EventInput, 'task' | 'source'>): void;
}

interface TableState {
  target: TableName;
  srcTable: string;
  stage: 'Running' | 'Stopped';
  message?: string;
  /** Downstream columns by lower-case name (loaded at the first read). */
  down?: Map<string, ColumnInfo>;
  /** Upstream data types by column name (from the latest change: they pick the comparison kind). */
  upTypes: Map<string, string>;
}

const MAX_TABLES_SHOWN = 200;
const COUNTS_REFRESH_MS = 2000;

export class Validator implements AppliedRows {
  private readonly queue: ValidatorQueue;
  private readonly tables = new Map<string, TableState>();
  private conns: Connection[] = [];
  private workers: Promise<void>[] = [];
  private stopped = false;
  private stage: 'Running' | 'Stopped' = 'Running';
  private result: string | undefined;
  private errors = { new: 0, ignored: 0, resolved: 0 };
  private timer: NodeJS.Timeout | undefined;
  private readonly errTable: string;

  constructor(private readonly init: ValidatorInit) {
    this.queue = new ValidatorQueue(init.cfg);
    this.errTable = validatorErrorTable(init.task.metaSchema, init.task.name);
  }

  get mode(): 'fast' | 'full' {
    return this.init.mode;
  }

  /** Opens the workers' connections and starts them; a failure stops the validator with the reason in its status. */
  async start(): Promise<void> {
    const { task, cfg } = this.init;
    try {
      for (let i = 0; i < cfg.workerCount; i++)
        this.conns.push(await connect(task.targetDatabase, 'downstream', { timeZone: taskZone(task).session }));
      await ensureErrorTable(this.conns[0]!, task.metaSchema, task.name);
      await this.refreshCounts();
    } catch (err) {
      this.halt(`cannot start: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) return this.close();
    this.workers = this.conns.map((c) => this.work(c));
    this.timer = setInterval(() => void this.refreshCounts().catch(() => undefined), COUNTS_REFRESH_MS);
    this.publish();
    this.init.log.info({ mode: this.init.mode, workers: cfg.workerCount }, 'continuous validation started');
  }

  /** Ends the workers (a read in flight finishes) and closes their connections. Pending rows are dropped. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stage = 'Stopped';
    await Promise.all(this.workers);
    this.close();
    this.queue.clear();
    this.publish();
  }

  /** Error counts read again (after ignore/resolve/clear-error). */
  async refreshCounts(): Promise<void> {
    const c = this.conns[0];
    if (!c || this.stopped) return;
    this.errors = await countErrors(c, this.errTable, this.init.source);
    this.publish();
  }

  applied(shares: readonly (readonly RoutedChange[])[]): void {
    if (this.stopped) return;
    const now = Date.now();
    for (const share of shares) {
      for (const rc of share) {
        const rows = expectations(rc);
        const t = this.table(rc);
        if (rows.length === 0) {
          if (t.stage === 'Running') {
            t.stage = 'Stopped';
            t.message = 'no primary key or not-null unique key: not validated (DM requires one too)';
          }
          continue;
        }
        if (t.stage === 'Stopped') continue;
        for (const r of rows) this.queue.add(r, now);
      }
    }
    if (this.queue.overflowing) {
      this.halt(
        `more than ${this.init.cfg.maxPendingRowCount} rows pending (max-pending-row-count): validation stopped; ` +
          '`dmctl validation start` starts it again with the rows sync applies next',
      );
      void this.stop();
    }
  }

  status(): ValidationStatus {
    const tables: ValidationTableStatus[] = [...this.tables.values()]
      .sort((a, b) => (a.stage === b.stage ? 0 : a.stage === 'Stopped' ? -1 : 1))
      .slice(0, MAX_TABLES_SHOWN)
      .map((t) => ({
        srcTable: t.srcTable,
        dstTable: `${quoteIdent(t.target.schema)}.${quoteIdent(t.target.table)}`,
        stage: this.stage === 'Stopped' ? 'Stopped' : t.stage,
        ...(t.message ? { message: t.message } : {}),
      }));
    return {
      mode: this.init.mode,
      stage: this.stage,
      processed: { ...this.queue.processed },
      pending: this.queue.pending(),
      errors: { ...this.errors },
      ...(this.result ? { result: this.result } : {}),
      tables,
    };
  }

  private table(rc: RoutedChange): TableState {
    const key = tableKey(rc.target);
    let t = this.tables.get(key);
    if (!t) {
      t = {
        target: rc.target,
        srcTable: `${quoteIdent(rc.change.schema)}.${quoteIdent(rc.change.table)}`,
        stage: 'Running',
        upTypes: new Map(),
      };
      this.tables.set(key, t);
    }
    if (t.upTypes.size !== rc.info.columns.length || !t.upTypes.has(rc.info.columns[0]?.name ?? '')) {
      t.upTypes = new Map(rc.info.columns.map((c) => [c.name, c.dataType]));
    }
    return t;
  }

  private halt(reason: string): void {
    this.result = reason;
    this.stage = 'Stopped';
    this.init.log.warn({ reason }, 'continuous validation stopped');
    this.init.event?.({ kind: EventKind.validationStopped, message: `continuous validation stopped: ${reason}` });
    this.publish();
  }

  private close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const c of this.conns) c.destroy();
    this.conns = [];
  }

  /** Error rows per table since its last validation.failed event: at most one event per table per minute. */
  private readonly errorEvents = new Map<string, { at: number; rows: number }>();
  private errorEvent(table: string, errorType: string): void {
    const e = this.errorEvents.get(table) ?? { at: 0, rows: 0 };
    e.rows++;
    this.errorEvents.set(table, e);
    if (Date.now() - e.at < 60_000) return;
    const msg = `${e.rows} row(s) differ downstream (${errorType}); see dmctl validation show-error`;
    this.init.event?.({ kind: EventKind.validationFailed, table, message: msg, detail: { rows: e.rows } });
    e.at = Date.now();
    e.rows = 0;
  }

  private lastPublish = 0;
  private publish(): void {
    this.lastPublish = Date.now();
    this.init.report(this.status());
  }

  private async work(conn: Connection): Promise<void> {
    while (!this.stopped) {
      const now = Date.now();
      const rows = this.queue.take(now);
      if (!rows) {
        if (now - this.lastPublish > 1000) this.publish();
        const wait = Math.min(this.queue.nextDueIn(now) ?? 200, 200);
        await new Promise((r) => setTimeout(r, Math.max(wait, 5)));
        continue;
      }
      try {
        await this.check(conn, rows);
      } catch (err) {
        const t = this.tableOf(rows[0]!);
        if (isTransient(err) || !t) {
          this.queue.retry(rows, Date.now());
          this.init.log.warn({ err: String(err) }, 'validation read failed: retrying');
        } else {
          // The table cannot be read back (dropped, a column renamed by DDL): DM's table stage Stopped.
          t.stage = 'Stopped';
          t.message = (err as Error).message;
          this.queue.dropTable(rows[0]!.table);
        }
        this.publish();
      }
    }
  }

  private tableOf(row: PendingRow): TableState | undefined {
    return this.tables.get(row.table);
  }

  /** Reads one batch of a table's pending rows downstream and settles each. */
  private async check(conn: Connection, rows: PendingRow[]): Promise<void> {
    const t = this.tableOf(rows[0]!);
    if (!t || t.stage === 'Stopped') {
      if (t) this.queue.dropTable(rows[0]!.table);
      return;
    }
    if (!t.down) {
      const info = await loadTableInfo(conn, 'downstream', t.target.schema, t.target.table);
      if (!info) throw new Error(`downstream table ${t.target.schema}.${t.target.table} does not exist`);
      t.down = new Map(info.columns.map((c) => [c.name.toLowerCase(), c]));
    }
    const down = t.down;
    const col = (name: string) => {
      const d = down.get(name.toLowerCase());
      if (!d) throw new Error(`column ${name} does not exist downstream`);
      const k = kindOf(d.dataType, [t.upTypes.get(name) ?? d.dataType]);
      // TIMESTAMP is read as text in the task's zone, as the writers wrote it (not as UNIX_TIMESTAMP like check-data).
      // A FLOAT read exactly: the float32 value the binlog carried.
      const expr = exactRead(quoteIdent(d.name), d.dataType);
      return { name: d.name, expr, kind: (k === 'unix' ? 'temporal' : k) as ValueKind, binary: d.binary };
    };
    const keyCols = rows[0]!.keyColumns.map(col);
    const valueCols =
      this.init.mode === 'full'
        ? [...new Set(rows.flatMap((r) => (r.expected ? Object.keys(r.expected) : [])))]
            .filter((n) => !rows[0]!.keyColumns.includes(n) && down.has(n.toLowerCase()))
            .map((n) => ({ up: n, ...col(n) }))
        : [];
    const all = [...keyCols, ...valueCols];
    const binary = new Set(all.flatMap((c, i) => (c.binary ? [`c${i}`] : [])));
    const select = all.map((c, i) => `${c.expr} AS c${i}`).join(', ');
    const keyList = keyCols.map((c) => quoteIdent(c.name)).join(', ');
    const tuple = keyCols.length === 1 ? '?' : `(${keyCols.map(() => '?').join(', ')})`;
    const sql =
      `SELECT ${select} FROM ${quoteIdent(t.target.schema)}.${quoteIdent(t.target.table)} ` +
      `WHERE ${keyCols.length === 1 ? keyList : `(${keyList})`} IN (${rows.map(() => tuple).join(', ')})`;
    const { rows: found } = await queryExact(
      conn,
      sql,
      binary,
      rows.flatMap((r) => r.keyValues),
    );
    const kinds = keyCols.map((c) => c.kind);
    const byKey = new Map(
      found.map((f) => [
        canonicalKey(
          kinds,
          keyCols.map((_c, i) => f[`c${i}`] ?? null),
        ),
        f,
      ]),
    );
    const now = Date.now();
    for (const r of rows) {
      const f = byKey.get(canonicalKey(kinds, r.keyValues));
      let ok: boolean;
      if (!r.expected) ok = f === undefined;
      else if (!f) ok = false;
      else
        ok = valueCols.every((c, j) =>
          sameValue(c.kind, r.expected![c.up] ?? null, f[`c${keyCols.length + j}`] ?? null),
        );
      const actual = f ? Object.fromEntries(all.map((c, i): [string, Value] => [c.name, f[`c${i}`] ?? null])) : null;
      const err = this.queue.settle(r, ok ? { ok: true } : { ok: false, actual }, now);
      if (err) await this.record(conn, t, err, actual, all, keyCols.length);
    }
  }

  private async record(
    conn: Connection,
    t: TableState,
    r: PendingRow,
    actual: Record<string, Value> | null,
    cols: { name: string; kind: ValueKind; binary: boolean; up?: string }[],
    nKey: number,
  ): Promise<void> {
    const show = (c: { kind: ValueKind; binary: boolean }, v: Value) => display(c.kind, c.binary, v);
    const key = Object.fromEntries(cols.slice(0, nKey).map((c, i) => [c.name, show(c, r.keyValues[i] ?? null)]));
    const srcData = r.expected
      ? Object.fromEntries(
          cols.map((c, i) => [c.name, show(c, i < nKey ? (r.keyValues[i] ?? null) : (r.expected![c.up!] ?? null))]),
        )
      : null;
    const dstData = actual ? Object.fromEntries(cols.map((c) => [c.name, show(c, actual[c.name] ?? null)])) : null;
    const errorType = !r.expected
      ? 'Expected rows are deleted'
      : !actual
        ? 'Expected rows not exist'
        : 'Column data not matched';
    const id = await insertError(conn, this.errTable, {
      source: this.init.source,
      srcTable: r.srcTable,
      dstTable: `${quoteIdent(t.target.schema)}.${quoteIdent(t.target.table)}`,
      key,
      errorType,
      srcData,
      dstData,
    });
    this.errors.new++;
    this.init.log.warn({ id, table: r.table, key, errorType }, 'validation error row');
    this.errorEvent(r.srcTable, errorType);
    this.publish();
  }
}
