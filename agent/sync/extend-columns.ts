import type { ExtendedColumns } from '../../src/route/router.ts';
import type { ColumnInfo, TableInfo } from '../../src/schema/engine-shapes.ts';
import type { RowChange, RowImage } from '../binlog/events.ts';
import { rowKey } from '../db/schema.ts';
import type { RoutedChange } from './dispatcher.ts';

/**
 * DM extended columns in the sync unit: every row of an upstream table whose route has extract-table/schema/source
 * carries the extracted values in the downstream's target columns (the downstream table must have them: the
 * precheck refuses the task otherwise, as DM does).
 *
 * Keys: rows of several upstream tables meet in one downstream table, so the upstream key alone no longer
 * identifies a downstream row (c1 = 4 may exist for c_table '1' and '2'). The extended columns are added to
 * every key, so UPDATE/DELETE match only the row of the table they came from, and causality hashes the same.
 */
const infos = new WeakMap<TableInfo, { ext: string; info: TableInfo }>();

export function extendedInfo(info: TableInfo, ext: ExtendedColumns): TableInfo {
  const sig = ext.columns.join('\0');
  const hit = infos.get(info);
  if (hit && hit.ext === sig) return hit.info;
  const extra: ColumnInfo[] = ext.columns
    .filter((c) => !info.columns.some((x) => x.name.toLowerCase() === c.toLowerCase()))
    .map((name) => ({
      name,
      dataType: 'varchar',
      columnType: 'varchar(255)',
      nullable: true,
      generated: false,
      charset: 'utf8mb4',
      collation: null,
      comment: '',
      binary: false,
    }));
  const withExt = (k: string[]) => [
    ...k,
    ...ext.columns.filter((c) => !k.some((x) => x.toLowerCase() === c.toLowerCase())),
  ];
  const out: TableInfo = {
    ...info,
    columns: [...info.columns, ...extra],
    primaryKey: info.primaryKey.length ? withExt(info.primaryKey) : [],
    uniqueKeys: info.uniqueKeys.map(withExt),
  };
  infos.set(info, { ext: sig, info: out });
  return out;
}

export function withExtendedColumns(change: RowChange, ext: ExtendedColumns): RowChange {
  const add = (img: RowImage | undefined): RowImage | undefined => {
    if (!img) return img;
    const out: RowImage = { ...img };
    ext.columns.forEach((c, i) => {
      out[c] = ext.values[i]!;
    });
    return out;
  };
  const before = add(change.before),
    after = add(change.after);
  return {
    ...change,
    info: extendedInfo(change.info, ext),
    ...(before ? { before } : {}),
    ...(after ? { after } : {}),
  };
}

/** A routed change with its table's extended columns (unchanged when the route extracts none). */
export function extendRouted(rc: RoutedChange, ext: ExtendedColumns | undefined): RoutedChange {
  if (!ext) return rc;
  const change = withExtendedColumns(rc.change, ext);
  return { ...rc, change, info: change.info, key: rowKey(change.info) };
}
