import type { RowCounts } from '../../src/coord/records.ts';
import type { Value } from '../db/mysql.ts';

/**
 * The rows continuous validation still has to confirm (DM's pending rows), and when each is read next. Pure: time is
 * passed in, so the delay rules are unit-tested without a clock.
 *
 * - A row is known by target table and key. A later change of the same row replaces its expected image (the latest
 *   image wins: the downstream can only be expected to hold what sync wrote last) and restarts its delay.
 * - A new row waits up to validate-interval so that rows of a table are read back in batches (read at once when
 *   batch-query-size rows of a table are waiting, DM's "accumulated a certain number of rows or a time interval").
 * - A row that differed is read again check-interval later; once row-error-delay has passed since sync applied its
 *   latest image, the difference is an error row and the row leaves the queue.
 * - A row whose check was in flight when a newer image arrived: that check's outcome is dropped (version).
 */

export type ChangeKind = keyof RowCounts;

export interface PendingRow {
  /** Target table, `schema`.`table` as tableKey gives it. */
  table: string;
  /** Canonical key text (the Map key). */
  key: string;
  /** Key values in `keyColumns` order, for the WHERE of the read. */
  keyValues: Value[];
  keyColumns: string[];
  /** The row sync wrote (column -> value), or null when the row must be absent (deleted, or its key changed). */
  expected: Record<string, Value> | null;
  kind: ChangeKind;
  /** Upstream table (`schema`.`table`), for the error row. */
  srcTable: string;
  /** When sync applied this image (ms). */
  since: number;
  /** Not read before this time (ms). */
  dueAt: number;
  checked: boolean;
  inFlight: boolean;
  version: number;
}

export interface QueueOptions {
  validateIntervalMs: number;
  checkIntervalMs: number;
  rowErrorDelayMs: number;
  batchQuerySize: number;
  maxPendingRowCount: number;
}

export type Outcome = { ok: true } | { ok: false; actual: Record<string, Value> | null };

const zero = (): RowCounts => ({ insert: 0, update: 0, delete: 0 });

export class ValidatorQueue {
  private readonly tables = new Map<string, Map<string, PendingRow>>();
  private size = 0;
  private version = 0;
  readonly processed: RowCounts = zero();

  constructor(private readonly opts: QueueOptions) {}

  get pendingCount(): number {
    return this.size;
  }

  /** Over max-pending-row-count: the caller stops validating (the queue would only grow). */
  get overflowing(): boolean {
    return this.size > this.opts.maxPendingRowCount;
  }

  pending(): RowCounts {
    const c = zero();
    for (const rows of this.tables.values()) for (const r of rows.values()) c[r.kind]++;
    return c;
  }

  /** Queues a row sync just applied (replacing an older image of the same row). */
  add(row: Omit<PendingRow, 'since' | 'dueAt' | 'checked' | 'inFlight' | 'version'>, now: number): void {
    let rows = this.tables.get(row.table);
    if (!rows) {
      rows = new Map();
      this.tables.set(row.table, rows);
    }
    if (rows.delete(row.key)) this.size--;
    rows.set(row.key, {
      ...row,
      since: now,
      dueAt: now + this.opts.validateIntervalMs,
      checked: false,
      inFlight: false,
      version: ++this.version,
    });
    this.size++;
  }

  /**
   * The next rows to read back: up to batch-query-size rows of one table that are due (or all waiting rows of a table
   * that has a full batch of new ones), marked in flight. Undefined: nothing to read now.
   */
  take(now: number): PendingRow[] | undefined {
    for (const rows of this.tables.values()) {
      let fresh = 0;
      for (const r of rows.values()) if (!r.checked && !r.inFlight) fresh++;
      const full = fresh >= this.opts.batchQuerySize;
      const out: PendingRow[] = [];
      for (const r of rows.values()) {
        if (r.inFlight || !(r.dueAt <= now || (full && !r.checked))) continue;
        out.push(r);
        if (out.length >= this.opts.batchQuerySize) break;
      }
      if (out.length > 0) {
        for (const r of out) r.inFlight = true;
        return out;
      }
    }
    return undefined;
  }

  /** Rows back to the queue unread (the read failed): read again check-interval later, their delay running on. */
  retry(rows: PendingRow[], now: number): void {
    for (const r of rows) {
      if (!this.current(r)) continue;
      r.inFlight = false;
      r.dueAt = now + this.opts.checkIntervalMs;
    }
  }

  /**
   * The outcome of reading `row`. Returns the row when it becomes an error row (it left the queue), else undefined
   * (confirmed and removed, read again later, or replaced by a newer image meanwhile).
   */
  settle(row: PendingRow, outcome: Outcome, now: number): PendingRow | undefined {
    if (!this.current(row)) return undefined;
    row.inFlight = false;
    row.checked = true;
    if (outcome.ok) {
      this.remove(row);
      this.processed[row.kind]++;
      return undefined;
    }
    if (now - row.since >= this.opts.rowErrorDelayMs) {
      this.remove(row);
      return row;
    }
    row.dueAt = Math.min(now + this.opts.checkIntervalMs, row.since + this.opts.rowErrorDelayMs);
    return undefined;
  }

  /** Ms until some row is due (undefined: none waiting, or all in flight). */
  nextDueIn(now: number): number | undefined {
    let min: number | undefined;
    for (const rows of this.tables.values())
      for (const r of rows.values()) if (!r.inFlight) min = Math.min(min ?? Infinity, r.dueAt - now);
    return min === undefined ? undefined : Math.max(0, min);
  }

  /** Drops every row of a table (it cannot be validated: no key, dropped). */
  dropTable(table: string): void {
    const rows = this.tables.get(table);
    if (!rows) return;
    this.size -= rows.size;
    this.tables.delete(table);
  }

  clear(): void {
    this.tables.clear();
    this.size = 0;
  }

  private current(row: PendingRow): boolean {
    return this.tables.get(row.table)?.get(row.key)?.version === row.version;
  }

  private remove(row: PendingRow): void {
    const rows = this.tables.get(row.table);
    if (rows?.delete(row.key)) this.size--;
    if (rows && rows.size === 0) this.tables.delete(row.table);
  }
}
