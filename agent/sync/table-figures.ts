import type { SyncTableProgress } from '../../src/coord/records.ts';
import type { TableName } from '../../src/sql/table-name.ts';

/** Tables listed in the status (the most recently applied), and tables remembered between reports. */
export const SYNC_TABLES_LISTED = 30;
const REMEMBERED = 200;

interface Figure {
  table: string;
  rows: number;
  lagSeconds: number;
  at: number;
  /** Order of the last application (several commits share a millisecond). */
  seq: number;
}

/**
 * Per target table: rows applied, lag at the table's last commit, when that was. The sync unit counts them at each
 * commit (one map lookup per run of rows of a table, as the metrics do), whether or not metrics are served, and the
 * progress report lists the most recent ones (`sync.perTable`, bounded) for the dashboard's task detail.
 */
export class TableFigures {
  private readonly byObject = new WeakMap<TableName, Figure>();
  private readonly byName = new Map<string, Figure>();
  private seq = 0;

  /** A committed batch: its row changes per writer, `ts` the upstream time (s) of its last event. */
  batch(shares: readonly (readonly { readonly target: TableName }[])[], ts: number): void {
    const now = Date.now();
    const lag = lagAt(ts, now);
    for (const share of shares) {
      let last: TableName | undefined;
      let n = 0;
      for (const c of share) {
        if (c.target !== last) {
          if (last) this.add(last, n, lag, now);
          last = c.target;
          n = 0;
        }
        n++;
      }
      if (last) this.add(last, n, lag, now);
    }
  }

  /** A large transaction committed: rows per target table. */
  tables(perTable: ReadonlyMap<TableName, number>, ts: number): void {
    const now = Date.now();
    const lag = lagAt(ts, now);
    for (const [t, n] of perTable) this.add(t, n, lag, now);
  }

  list(): SyncTableProgress[] {
    return [...this.byName.values()]
      .sort((a, b) => b.seq - a.seq)
      .slice(0, SYNC_TABLES_LISTED)
      .map((f) => ({
        table: f.table,
        rows: f.rows,
        lagSeconds: f.lagSeconds,
        lastAppliedAt: new Date(f.at).toISOString(),
      }));
  }

  private add(t: TableName, n: number, lag: number, now: number): void {
    let f = this.byObject.get(t);
    // A figure forgotten past REMEMBERED may still hang off its TableName: it comes back from 0.
    if (!f || this.byName.get(f.table) !== f) {
      const name = `${t.schema}.${t.table}`;
      f = this.byName.get(name);
      if (!f) {
        if (this.byName.size >= REMEMBERED) this.forgetOldest();
        f = { table: name, rows: 0, lagSeconds: 0, at: now, seq: 0 };
        this.byName.set(name, f);
      }
      this.byObject.set(t, f);
    }
    f.rows += n;
    f.lagSeconds = lag;
    f.at = now;
    f.seq = ++this.seq;
  }

  /** Past REMEMBERED tables, the one applied longest ago goes (its rows count again from 0 if it comes back). */
  private forgetOldest(): void {
    let oldest: Figure | undefined;
    for (const f of this.byName.values()) if (!oldest || f.seq < oldest.seq) oldest = f;
    if (oldest) this.byName.delete(oldest.table);
  }
}

function lagAt(ts: number, now: number): number {
  return ts > 0 ? Math.max(0, Math.round(now / 1000 - ts)) : 0;
}
