import { tableKey } from '../../src/sql/table-name.ts';
import type { Connection } from 'mysql2/promise';
import { query, type Value } from '../db/mysql.ts';
import { valuesKey, type RoutedChange } from './dispatcher.ts';
import {
  bigBinary,
  bind,
  boundInsert,
  deleteByKeyStatements,
  deleteOneRow,
  insertStatements,
  type Stmt,
  updateByKey,
  updateOneRow,
} from './sqlgen.ts';
import { whereColumns } from './row-identity.ts';

/**
 * Foreign keys downstream (issue #12).
 *
 * MySQL and MariaDB do not write to the binlog the child rows that an ON DELETE / ON UPDATE CASCADE, SET NULL or
 * SET DEFAULT changes: only the parent row's change is logged. Downstream writers run with foreign_key_checks=0
 * (agent/db/downstream.ts): rows arrive out of FK order (parallel writers, compaction, a load that fills a child
 * before its parent), and with checks off a REPLACE never cascades (safe mode's REPLACE would otherwise delete the
 * children of the row it replaces). So the one change whose effect downstream needs the checks is the user's
 * cascading change itself:
 *  - a DELETE of a row of a table that a CASCADE/SET NULL/SET DEFAULT delete rule refers to;
 *  - an UPDATE that changes the referenced columns of a table that such an update rule refers to;
 * unless the upstream session ran with foreign_key_checks=0 (the rows event says so): then nothing cascaded there.
 * A transaction holding one of them is a barrier (agent/sync/apply.ts): everything before it is flushed, then the
 * whole transaction is applied on one connection in binlog order, the cascading statements with
 * foreign_key_checks=1 (so the downstream cascades exactly as the upstream did) and the others with checks off,
 * and every writer's checkpoint moves past it in the same transaction.
 */

const ACTIONS = new Set(['CASCADE', 'SET NULL', 'SET DEFAULT']);

interface ParentRules {
  /** A delete of a row cascades into a child table. */
  onDelete: boolean;
  /** Referenced column sets whose change cascades into a child table. */
  onUpdate: string[][];
}

export class CascadeRules {
  private constructor(private readonly parents: Map<string, ParentRules>) {}

  static readonly none = new CascadeRules(new Map());

  /** The downstream's foreign keys whose rules act on child rows, by referenced (parent) table. */
  static async load(conn: Connection): Promise<CascadeRules> {
    const rows = await query<Record<string, string>[]>(
      conn,
      'downstream',
      `SELECT rc.CONSTRAINT_SCHEMA AS s, rc.CONSTRAINT_NAME AS n, rc.UPDATE_RULE AS u, rc.DELETE_RULE AS d,
              k.REFERENCED_TABLE_SCHEMA AS ps, k.REFERENCED_TABLE_NAME AS pt, k.REFERENCED_COLUMN_NAME AS pc
         FROM information_schema.REFERENTIAL_CONSTRAINTS rc
         JOIN information_schema.KEY_COLUMN_USAGE k
           ON k.CONSTRAINT_SCHEMA = rc.CONSTRAINT_SCHEMA AND k.CONSTRAINT_NAME = rc.CONSTRAINT_NAME AND k.TABLE_NAME = rc.TABLE_NAME
        WHERE k.REFERENCED_TABLE_NAME IS NOT NULL
          AND (rc.UPDATE_RULE IN ('CASCADE','SET NULL','SET DEFAULT') OR rc.DELETE_RULE IN ('CASCADE','SET NULL','SET DEFAULT'))
        ORDER BY rc.CONSTRAINT_SCHEMA, rc.TABLE_NAME, rc.CONSTRAINT_NAME, k.POSITION_IN_UNIQUE_CONSTRAINT`,
    );
    return CascadeRules.fromRows(rows);
  }

  /** From information_schema rows: constraint schema `s` and name `n`, update/delete rules `u`/`d`, referenced
   * schema, table and column `ps`/`pt`/`pc`, one row per column in key order. */
  static fromRows(rows: Record<string, string>[]): CascadeRules {
    const parents = new Map<string, ParentRules>();
    const fks = new Map<string, { parent: string; update: boolean; delete: boolean; cols: string[] }>();
    for (const r of rows) {
      const id = `${r.s}\u0000${r.n}`;
      const fk = fks.get(id) ?? {
        parent: `${r.ps}.${r.pt}`,
        update: ACTIONS.has(String(r.u)),
        delete: ACTIONS.has(String(r.d)),
        cols: [],
      };
      fk.cols.push(String(r.pc));
      fks.set(id, fk);
    }
    for (const fk of fks.values()) {
      const p = parents.get(fk.parent) ?? { onDelete: false, onUpdate: [] };
      if (fk.delete) p.onDelete = true;
      if (fk.update) p.onUpdate.push(fk.cols);
      parents.set(fk.parent, p);
    }
    return new CascadeRules(parents);
  }

  get empty(): boolean {
    return this.parents.size === 0;
  }

  /** True when applying this change downstream must let the server cascade to child rows. */
  cascades(rc: RoutedChange): boolean {
    const p = this.parents.get(`${tableKey(rc.target)}`);
    // An upstream session with foreign_key_checks=0 cascaded nothing: neither does the downstream.
    if (!p || rc.change.noFkChecks) return false;
    const { op, before, after } = rc.change;
    if (op === 'delete') return p.onDelete;
    if (op !== 'update' || !before || !after) return false;
    return p.onUpdate.some(
      (cols) => valuesKey(cols.map((c) => before[c] ?? null)) !== valuesKey(cols.map((c) => after[c] ?? null)),
    );
  }
}

/** One statement of a barrier transaction, and whether it runs with foreign_key_checks=1; `params`: its values,
 * bound (a row with large binary values, sqlgen.ts BIND_BYTES). */
export interface OrderedStatement {
  sql: string;
  checks: boolean;
  params?: Value[];
}

/** The statement a writer runs (text, or bound with its values). */
export const stmtOf = (s: OrderedStatement): Stmt => (s.params ? { sql: s.sql, params: s.params } : s.sql);

/**
 * A transaction's changes as statements in binlog order (no compaction: the order relative to the cascading
 * statements matters). Idempotent like safe mode: an insert is a REPLACE (checks off: no cascade), a cascading
 * UPDATE is a real UPDATE by the old key (the server cascades) followed by a REPLACE of the new row (so it exists
 * even when the old one was not there yet), a cascading DELETE is a DELETE by key.
 */
export function orderedStatements(
  changes: RoutedChange[],
  cascades: (rc: RoutedChange) => boolean,
): OrderedStatement[] {
  const out: OrderedStatement[] = [];
  for (const rc of changes) {
    const { change, target, key } = rc;
    const cols = rc.info.columns.filter((c) => !c.generated).map((c) => c.name);
    const row = (img: Record<string, Value>) => cols.map((c) => img[c] ?? null);
    const keyOf = (img: Record<string, Value>) => key.map((c) => img[c] ?? null);
    const on = cascades(rc);
    // A row with large binary values: its statements with the values bound (sqlgen.ts BIND_BYTES).
    const big = bigBinary(change.before, cols) || bigBinary(change.after, cols);
    const put = (verb: 'INSERT' | 'REPLACE') =>
      big
        ? [{ ...boundInsert(verb, target, cols, row(change.after!)), checks: false }]
        : insertStatements(verb, target, cols, [row(change.after!)]).map((sql) => ({ sql, checks: false }));
    const written = (checks: boolean, build: (params?: Value[]) => string): OrderedStatement =>
      big ? { ...bind(build), checks } : { sql: build(), checks };
    if (key.length === 0) {
      const where = change.before ? whereColumns(rc.identity, cols, change.before) : cols;
      if (change.op === 'insert') out.push(...put('INSERT'));
      else if (change.op === 'update')
        out.push(written(on, (p) => updateOneRow(target, cols, change.before!, change.after!, where, p)));
      else out.push(written(on, (p) => deleteOneRow(target, cols, change.before!, where, p)));
      continue;
    }
    if (change.op === 'delete') {
      out.push(...deleteByKeyStatements(target, key, [keyOf(change.before!)]).map((sql) => ({ sql, checks: on })));
      continue;
    }
    if (change.op === 'update') {
      const keyChanged = valuesKey(keyOf(change.before!)) !== valuesKey(keyOf(change.after!));
      // A cascading key change replayed over rows loaded from two snapshots (a load resumed after a crash: the chunk
      // with the old key read before the change, the one with the new key after it) finds both keys downstream, and
      // the UPDATE would fail on the new one. The new key's row is removed first without cascading (its children, read
      // after the change, already point at it); the UPDATE then moves the old row's children, the REPLACE the row.
      if (on && keyChanged)
        out.push(...deleteByKeyStatements(target, key, [keyOf(change.after!)]).map((sql) => ({ sql, checks: false })));
      if (on) out.push(written(true, (p) => updateByKey(target, cols, key, change.before!, change.after!, p)));
      else if (keyChanged) {
        out.push(...deleteByKeyStatements(target, key, [keyOf(change.before!)]).map((sql) => ({ sql, checks: false })));
      }
    }
    out.push(...put('REPLACE'));
  }
  return out;
}
