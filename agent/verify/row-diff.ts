import type { Connection } from 'mysql2/promise';
import type { TypeCast } from 'mysql2';
import { classifyMysqlError, type Side, type Value } from '../db/mysql.ts';
import type { Difference } from './types.ts';
import { canonical, display } from './normalize.ts';
import type { TableShape } from './table-shape.ts';

/** A differing row with its full images (the fix SQL needs the upstream values, the report shows both). */
export interface RowDiff {
  kind: Difference['kind'];
  up: Value[] | null;
  down: Value[] | null;
  /** Indexes of the differing columns (every column for missing/extra). */
  columns: number[];
}

/** Reads rows as arrays, exactly: bytes for the columns aliased in `binary`, text for everything else. */
export async function readRows(
  conn: Connection,
  side: Side,
  sql: string,
  binary: ReadonlySet<string>,
): Promise<Value[][]> {
  const typeCast: TypeCast = (field, next) => {
    void next;
    return binary.has(field.name) || field.type === 'GEOMETRY' ? field.buffer() : field.string('utf8');
  };
  try {
    const [rows] = await conn.query({ sql, rowsAsArray: true, typeCast });
    return rows as unknown as Value[][];
  } catch (err) {
    throw classifyMysqlError(err, side, { sql });
  }
}

/** The aliases (c0..cn) of the columns read as bytes. */
export function binaryAliases(shape: TableShape): Set<string> {
  return new Set(shape.columns.flatMap((c, i) => (c.binary ? [`c${i}`] : [])));
}

/** The canonical text of some columns of a row: equal texts, equal values (the Map key of diffRows). */
export const canonRow = (shape: TableShape, r: Value[], idx: number[]): string =>
  JSON.stringify(idx.map((i) => canonical(shape.columns[i]!.kind, r[i] ?? null)));

/**
 * Compares a range's rows in JS. Keyed tables: by key (canonical key text) with a Map. Tables without a key: as
 * multisets of whole rows (a row twice upstream and once downstream is one missing row).
 */
export function diffRows(shape: TableShape, up: Value[][], down: Value[][]): RowDiff[] {
  const all = shape.columns.map((_c, i) => i);
  const out: RowDiff[] = [];
  if (shape.key.length === 0) {
    const counts = new Map<string, { n: number; up?: Value[]; down?: Value[] }>();
    for (const r of up) {
      const k = canonRow(shape, r, all);
      const e = counts.get(k) ?? { n: 0 };
      e.n++;
      e.up = r;
      counts.set(k, e);
    }
    for (const r of down) {
      const k = canonRow(shape, r, all);
      const e = counts.get(k) ?? { n: 0 };
      e.n--;
      e.down = r;
      counts.set(k, e);
    }
    for (const e of counts.values()) {
      for (let i = 0; i < e.n; i++) out.push({ kind: 'missing', up: e.up!, down: null, columns: all });
      for (let i = 0; i < -e.n; i++) out.push({ kind: 'extra', up: null, down: e.down!, columns: all });
    }
    return out;
  }
  const m = new KeyedMatch(shape);
  m.addDown(down);
  return [...m.matchUp(up), ...m.rest()];
}

/**
 * Keyed comparison in parts: the downstream rows of a range first, then the upstream rows in as many batches as
 * wanted (the open-ended last chunk is paged upstream: a table missing downstream is not read in one result), then
 * the downstream rows no upstream row matched (extra). An upstream key seen twice (two shards of a merge holding the
 * same key, with no extended column to tell them apart) is compared with the one downstream row both times.
 */
export class KeyedMatch {
  private readonly down = new Map<string, { row: Value[]; matched: boolean }>();
  private readonly all: number[];
  constructor(private readonly shape: TableShape) {
    this.all = shape.columns.map((_c, i) => i);
  }

  addDown(rows: Value[][]): void {
    for (const r of rows) this.down.set(canonRow(this.shape, r, this.shape.key), { row: r, matched: false });
  }

  matchUp(rows: Value[][]): RowDiff[] {
    const out: RowDiff[] = [];
    for (const u of rows) {
      const e = this.down.get(canonRow(this.shape, u, this.shape.key));
      if (!e) {
        out.push({ kind: 'missing', up: u, down: null, columns: this.all });
        continue;
      }
      e.matched = true;
      const d = e.row;
      const cols = this.all.filter((i) => {
        const kind = this.shape.columns[i]!.kind;
        return canonical(kind, u[i] ?? null) !== canonical(kind, d[i] ?? null);
      });
      if (cols.length) out.push({ kind: 'changed', up: u, down: d, columns: cols });
    }
    return out;
  }

  rest(): RowDiff[] {
    return [...this.down.values()]
      .filter((e) => !e.matched)
      .map((e) => ({ kind: 'extra', up: null, down: e.row, columns: this.all }));
  }
}

/** A RowDiff as the report shows it: the key (uncut: it identifies the row) and the differing values (cut). */
export function toDifference(shape: TableShape, d: RowDiff): Difference {
  const row = (d.down ?? d.up)!;
  const keyIdx = shape.key.length ? shape.key : shape.columns.map((_c, i) => i);
  const key: Record<string, string | null> = {};
  for (const i of keyIdx) {
    const c = shape.columns[i]!;
    // The downstream's key when it has the row, else the upstream's (they are canonically equal for `changed`).
    key[c.name] = display(c.kind, c.binary, row[i] ?? null, shape.key.length === 0);
  }
  return {
    key,
    kind: d.kind,
    columns: d.columns.map((i) => {
      const c = shape.columns[i]!;
      return {
        name: c.name,
        upstream: d.up ? display(c.kind, c.binary, d.up[i] ?? null) : null,
        downstream: d.down ? display(c.kind, c.binary, d.down[i] ?? null) : null,
      };
    }),
  };
}
