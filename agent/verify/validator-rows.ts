import type { RowCounts } from '../../src/coord/records.ts';
import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { Value } from '../db/mysql.ts';
import type { RoutedChange } from '../sync/dispatcher.ts';
import { canonical, type ValueKind } from './normalize.ts';
import type { PendingRow } from './validator-queue.ts';

/**
 * What continuous validation expects of a row sync applied (pure): the row image sync wrote at its key, or no row at
 * the key a delete (or a key-changing update) left. Columns generated downstream or upstream are not expected.
 */

export type NewPending = Omit<PendingRow, 'since' | 'dueAt' | 'checked' | 'inFlight' | 'version'>;

/** The raw text of key values: the pending row's identity within its table (exact; canonical forms come later). */
export function rawKeyText(values: Value[]): string {
  return JSON.stringify(values.map((v) => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : v)));
}

function image(rc: RoutedChange, img: Record<string, Value>): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const c of rc.info.columns) if (!c.generated && c.name in img) out[c.name] = img[c.name] ?? null;
  return out;
}

/** The rows one applied change asks to confirm ([] for a target without a usable key). */
export function expectations(rc: RoutedChange): NewPending[] {
  const keyColumns = rc.key;
  if (keyColumns.length === 0) return [];
  const { change } = rc;
  const table = tableKey(rc.target);
  const srcTable = tableKey({ schema: change.schema, table: change.table });
  const keyOf = (img: Record<string, Value>) => keyColumns.map((k) => img[k] ?? null);
  const out: NewPending[] = [];
  const kind = change.op as keyof RowCounts;
  if (change.after) {
    const keyValues = keyOf(change.after);
    out.push({
      table,
      key: rawKeyText(keyValues),
      keyValues,
      keyColumns,
      expected: image(rc, change.after),
      kind,
      srcTable,
    });
  }
  if (change.before) {
    const keyValues = keyOf(change.before);
    const key = rawKeyText(keyValues);
    // An update that kept its key expects only its new image; one that changed it expects the old key gone.
    if (!change.after || key !== out[0]!.key)
      out.push({ table, key, keyValues, keyColumns, expected: null, kind, srcTable });
  }
  return out;
}

/** The target of a table key as RoutedChange gave it (kept per table by the validator for its reads). */
export type Targets = Map<string, TableName>;

/** Canonical text of key values under the columns' kinds (how downstream rows are matched to pending rows). */
export function canonicalKey(kinds: ValueKind[], values: Value[]): string {
  return JSON.stringify(values.map((v, i) => canonical(kinds[i] ?? 'text', v)));
}

const asText = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('utf8'));

/**
 * Equal values for validation: canonical forms (normalize.ts, as check-data compares), except floats, equal within a
 * relative 1e-6 as DM's validator allows (a FLOAT's binlog value is a double, the downstream prints it rounded).
 */
export function sameValue(kind: ValueKind, a: Value, b: Value): boolean {
  if (kind === 'float' && a !== null && b !== null) {
    const x = Number(asText(a));
    const y = Number(asText(b));
    if (Number.isFinite(x) && Number.isFinite(y))
      return Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
  }
  return canonical(kind, a) === canonical(kind, b);
}
