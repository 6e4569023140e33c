import type { TrackedColumn, TrackedTable } from '../schema/model.ts';
import { sameName } from '../schema/names.ts';
import type { DmEventType } from './event-filter.ts';

/**
 * DM's event for `ALTER TABLE ... MODIFY|CHANGE COLUMN` (tiflow dm/syncer/ddl.go `handleModifyColumn` and
 * `needChangeColumnData`, itself copied from TiDB's ddl/column.go), from the column before the statement and the
 * column the clause defines. In DM's order:
 * 1. Type: the same TiDB type
 *    - DECIMAL: any change of precision, scale or sign → `precision decrease`;
 *    - ENUM/SET: a member removed, changed or moved (anything but appending) → `value range decrease`;
 *    - integers: a change of sign → `precision decrease` (display widths are ignored);
 *    - BINARY(n): a change of n → `precision decrease`; CHAR(n): never (TiDB pads CHAR the same way);
 *    - anything else (VARCHAR, BIT, DATETIME/TIMESTAMP/TIME fractions, FLOAT(m,d), TEXT/BLOB...): a smaller length or
 *      fraction, or a change of sign → `value range decrease`.
 *    Different types: CHAR ↔ VARCHAR → `modify column`; string → string (VARCHAR, CHAR, TEXT, BLOB families): a
 *    smaller length → `modify column`, else compatible; integer → integer: a smaller type or a change of sign →
 *    `value range decrease`, else compatible; anything else (INT → VARCHAR, DATE → DATETIME, ...) → `modify column`.
 * 2. Then, when the type change is compatible: AUTO_INCREMENT dropped → `remove auto increment`; a primary-key
 *    column → `drop primary key`; a column with a one-column UNIQUE key → `drop unique key` (DM's new column never
 *    carries these key flags: TiDB refuses PRIMARY KEY / UNIQUE in MODIFY, so modifying a key column always reads as
 *    dropping its key, even when the key stays in MySQL); another DEFAULT → `modify default value`; another charset →
 *    `modify charset`; another collation → `modify collation`; FIRST/AFTER → `modify columns order`; another name →
 *    `rename column`; otherwise (NULL ↔ NOT NULL, comment, ...) compatible: `alter table`.
 * A clause DM could not classify (unknown table or column, PRIMARY KEY/UNIQUE in the new definition, which TiDB
 * rejects) is `alter table`, as DM returns AlterTable on such errors.
 */

export interface ColumnChange {
  /** The column as the new definition makes it (resolved against the table's charset, as the tracker does). */
  column: TrackedColumn;
  /** FIRST or AFTER was given. */
  positioned: boolean;
  /** The definition says PRIMARY KEY or UNIQUE (TiDB refuses to modify a column with these: DM says `alter table`). */
  keyOption: boolean;
}

type Family = 'int' | 'decimal' | 'float' | 'double' | 'string' | 'varchar' | 'lob' | 'enum' | 'set' | 'other';

/** TiDB's type of a MariaDB column: [TiDB type name, family]. TEXT and BLOB of one size are one TiDB type. */
function tidbType(c: TrackedColumn): [string, Family] {
  const dt = c.dataType;
  switch (dt) {
    case 'tinyint':
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'bigint':
      return [dt, 'int'];
    case 'decimal':
      return [dt, 'decimal'];
    case 'float':
      return [dt, 'float'];
    case 'double':
      return [dt, 'double'];
    case 'char':
    case 'binary':
      return ['string', 'string'];
    case 'varchar':
    case 'varbinary':
      return ['varchar', 'varchar'];
    case 'tinytext':
    case 'tinyblob':
      return ['tinyblob', 'lob'];
    case 'text':
    case 'blob':
      return ['blob', 'lob'];
    case 'mediumtext':
    case 'mediumblob':
      return ['mediumblob', 'lob'];
    case 'longtext':
    case 'longblob':
      return ['longblob', 'lob'];
    case 'enum':
      return [dt, 'enum'];
    case 'set':
      return [dt, 'set'];
    default:
      return [dt, 'other'];
  }
}

const LOB_LEN: Record<string, number> = { tinyblob: 255, blob: 65535, mediumblob: 16777215, longblob: 4294967295 };
/** TiDB's default display length of each integer type (mysql.GetDefaultFieldLengthAndDecimal). */
const INT_LEN: Record<string, number> = { tinyint: 4, smallint: 6, mediumint: 9, int: 11, bigint: 20 };
const TIME_BASE: Record<string, number> = { datetime: 19, timestamp: 19, time: 10 };

/** TiDB's flen and decimal of a column, -1 when unspecified (FLOAT without (m,d)). */
function lenAndDec(c: TrackedColumn): [number, number] {
  const args = /\((\d+)(?:,(\d+))?\)/.exec(c.columnType);
  const n = args ? Number(args[1]) : undefined;
  const d = args?.[2] !== undefined ? Number(args[2]) : undefined;
  const [tt] = tidbType(c);
  if (tt in LOB_LEN) return [LOB_LEN[tt]!, 0];
  if (c.dataType in TIME_BASE) {
    const fsp = n ?? 0;
    return [TIME_BASE[c.dataType]! + (fsp > 0 ? fsp + 1 : 0), fsp];
  }
  if (c.dataType === 'float' || c.dataType === 'double') return [n ?? -1, d ?? -1];
  if (c.dataType === 'year') return [4, 0];
  if (c.dataType === 'date') return [10, 0];
  return [n ?? -1, d ?? 0];
}

function unsigned(c: TrackedColumn): boolean {
  return /\bunsigned\b/.test(c.columnType);
}

function binaryString(c: TrackedColumn): boolean {
  return c.dataType === 'binary';
}

function members(c: TrackedColumn): string[] {
  const inner = /^\w+\((.*)\)/s.exec(c.columnType)?.[1] ?? '';
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'/g;
  for (let m = re.exec(inner); m; m = re.exec(inner)) out.push(m[1]!.replace(/''/g, "'"));
  return out;
}

/** TiDB's IsElemsChangedToModifyColumn: anything but appending members needs the data changed. */
function elemsChanged(oldE: string[], newE: string[]): boolean {
  if (newE.length < oldE.length) return true;
  return oldE.some((e, i) => e !== newE[i]);
}

/** `needChangeColumnData`: the event the type change alone gives, or 'alter table'. */
export function typeChangeEvent(oldCol: TrackedColumn, newCol: TrackedColumn): DmEventType {
  const [oldT, oldF] = tidbType(oldCol);
  const [newT, newF] = tidbType(newCol);
  const [oldLen, oldDec] = lenAndDec(oldCol);
  const [newLen, newDec] = lenAndDec(newCol);
  const signChanged = unsigned(oldCol) !== unsigned(newCol);
  const truncatesOrToggles = (newLen > 0 && (newLen < oldLen || newDec < oldDec)) || signChanged;
  if (oldT === newT) {
    switch (oldF) {
      case 'decimal':
        return oldLen !== newLen || oldDec !== newDec || signChanged ? 'precision decrease' : 'alter table';
      case 'enum':
      case 'set':
        return elemsChanged(members(oldCol), members(newCol)) ? 'value range decrease' : 'alter table';
      case 'int':
        return signChanged ? 'precision decrease' : 'alter table';
      case 'string':
        return binaryString(oldCol) && newLen !== oldLen ? 'precision decrease' : 'alter table';
      default:
        return truncatesOrToggles ? 'value range decrease' : 'alter table';
    }
  }
  if ((oldF === 'varchar' && newF === 'string') || (oldF === 'string' && newF === 'varchar')) return 'modify column';
  const stringish = (f: Family) => f === 'string' || f === 'varchar' || f === 'lob';
  if (stringish(oldF) && stringish(newF)) return truncatesOrToggles ? 'modify column' : 'alter table';
  if (oldF === 'int' && newF === 'int') {
    return INT_LEN[newT]! < INT_LEN[oldT]! || signChanged ? 'value range decrease' : 'alter table';
  }
  return 'modify column';
}

/** DM's event for one MODIFY/CHANGE clause on `table` (the table before the statement); `oldName` is the column it names. */
export function columnChangeEvent(table: TrackedTable | undefined, oldName: string, change: ColumnChange): DmEventType {
  const oldCol = table?.columns.find((c) => sameName(c.name, oldName));
  if (!table || !oldCol || change.keyOption) return 'alter table';
  const newCol = change.column;
  const typeEvent = typeChangeEvent(oldCol, newCol);
  if (typeEvent !== 'alter table') return typeEvent;
  if (oldCol.autoIncrement && !newCol.autoIncrement) return 'remove auto increment';
  if (table.primaryKey.some((k) => sameName(k, oldCol.name))) return 'drop primary key';
  if (table.indexes.some((i) => i.kind === 'unique' && i.columns.length === 1 && sameName(i.columns[0]!, oldCol.name)))
    return 'drop unique key';
  if (oldCol.default !== newCol.default) return 'modify default value';
  if (oldCol.charset !== newCol.charset) return 'modify charset';
  if (oldCol.collation !== newCol.collation) return 'modify collation';
  if (change.positioned) return 'modify columns order';
  if (!sameName(oldCol.name, newCol.name)) return 'rename column';
  return 'alter table';
}
