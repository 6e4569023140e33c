/**
 * Runs what a diff config asks for, the way sync-diff-inspector does, with the harness's compareTables:
 *
 *  1. the target tables are the downstream's base tables (outside system schemas) that `target-check-tables`
 *     matches;
 *  2. every upstream base table of every source instance is routed; a routed name the filter matches must exist
 *     downstream ("missing downstream" otherwise), and every target table needs at least one upstream table;
 *  3. a target fed by one upstream table is compared with it row by row; a target fed by several (shard merge)
 *     is compared with the union of its shards, copied first into a scratch table on the downstream server
 *     (compared as a multiset when the union has no key, which is why DM's shard configs ignore `id`);
 *  4. `table-configs` give ignored columns and a `range` (a WHERE condition on both sides).
 *
 * Every difference names the table pair and the row and column, as compareTables words them.
 */
import { tableKey } from '../../src/sql/table-name.ts';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { compareTables, type DbEndpoint, type TableRef } from '../harness/index.ts';
import type { DiffSpec } from './diff-config.ts';

const SYSTEM_SCHEMAS = new Set([
  'mysql',
  'information_schema',
  'performance_schema',
  'sys',
  'metrics_schema',
  'inspection_schema',
]);
/** Where shard unions are assembled on the downstream server; never a case's schema. */
export const SCRATCH_SCHEMA = 'tsdm_conformance_scratch';

export interface DiffOutcome {
  ok: boolean;
  /** One line per difference, naming the table. */
  diffs: string[];
  /** `target <- source tables` lines, for the log. */
  compared: string[];
  /** Neither side has a table the config checks (the only difference is that there is nothing to compare). */
  empty: boolean;
}

const q = (id: string): string => '`' + id.replace(/`/g, '``') + '`';
const fq = (t: TableRef): string => `${q(t.schema)}.${q(t.table)}`;
const key = (t: TableRef): string => `${tableKey(t)}`;
const key_ = key;

async function connect(ep: DbEndpoint): Promise<mysql.Connection> {
  const c = await mysql.createConnection({
    host: ep.host,
    port: ep.port,
    user: ep.user,
    password: ep.password,
    connectTimeout: 10_000,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    // Raw text (or bytes for binary types) exactly as the server sends it, so copies are exact.
    typeCast: (field, next) => {
      if (
        field.type === 'BIT' ||
        field.type === 'BLOB' ||
        field.type === 'TINY_BLOB' ||
        field.type === 'MEDIUM_BLOB' ||
        field.type === 'LONG_BLOB' ||
        field.type === 'STRING' ||
        field.type === 'VAR_STRING'
      ) {
        return (field as unknown as { characterSet?: number }).characterSet === 63 ? field.buffer() : field.string();
      }
      // field.string() consumed the value (null for NULL): calling next() after it would decode the next bytes.
      void next;
      return field.string();
    },
  });
  await c.query("SET SESSION time_zone = '+00:00'");
  return c;
}

async function baseTables(ep: DbEndpoint): Promise<TableRef[]> {
  const c = await connect(ep);
  try {
    const [rows] = await c.query<RowDataPacket[]>(
      "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
    );
    return rows
      .map((r) => ({ schema: String(r.s), table: String(r.t) }))
      .filter((t) => !SYSTEM_SCHEMAS.has(t.schema.toLowerCase()) && t.schema !== SCRATCH_SCHEMA)
      .sort((a, b) => key(a).localeCompare(key(b)));
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

interface ShardRef {
  sourceIndex: number;
  table: TableRef;
}

/**
 * The key the union is compared on: the config's `index-fields`, else a unique key of the target, without ignored
 * columns (sync-diff orders by the same). compareTables orders a keyless table by all its columns, which MariaDB
 * cannot sort when several are long texts, so the scratch table gets this key as a NOT NULL UNIQUE index.
 */
async function unionKey(
  spec: DiffSpec,
  target: TableRef,
  indexFields: string[],
  ignore: Set<string>,
  cols: string[],
): Promise<string[]> {
  if (indexFields.length && indexFields.every((f) => cols.includes(f) && !ignore.has(f))) return indexFields;
  const c = await connect(spec.target);
  try {
    const [rows] = await c.query<RowDataPacket[]>(
      "SELECT INDEX_NAME AS i, COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
      [target.schema, target.table],
    );
    const byIndex = new Map<string, string[]>();
    for (const r of rows) byIndex.set(String(r.i), [...(byIndex.get(String(r.i)) ?? []), String(r.c)]);
    return [...byIndex.values()].find((k) => k.every((col) => cols.includes(col) && !ignore.has(col))) ?? [];
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

/**
 * Copies the union of the shards (rows matching `where`) into a scratch table on the target server, keyed on
 * `key` when every row has a distinct non-NULL key (strict mode: a NULL or a duplicate is an error, never a
 * silent conversion); otherwise keyless.
 */
async function assembleUnion(
  spec: DiffSpec,
  shards: ShardRef[],
  where: string,
  target: TableRef,
  indexFields: string[],
  ignore: Set<string>,
): Promise<TableRef> {
  const scratch: TableRef = { schema: SCRATCH_SCHEMA, table: 'shard_union' };
  const first = shards[0]!;
  const src0 = await connect(spec.sources[first.sourceIndex]!.endpoint);
  let cols: { name: string; type: string }[];
  try {
    const [rows] = await src0.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS n, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      [first.table.schema, first.table.table],
    );
    cols = rows.map((r) => ({ name: String(r.n), type: String(r.t) }));
  } finally {
    await src0.end().catch(() => src0.destroy());
  }
  // Shards may have grown different column types (one shard's MODIFY, a wider type on one source): the scratch
  // table takes the merged target's type where it has the column, as sync-diff compares against the target.
  const down0 = await connect(spec.target);
  try {
    const [trows] = await down0.query<RowDataPacket[]>(
      'SELECT COLUMN_NAME AS n, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
      [target.schema, target.table],
    );
    const tt = new Map(trows.map((r) => [String(r.n).toLowerCase(), String(r.t)]));
    cols = cols.map((c) => ({ name: c.name, type: tt.get(c.name.toLowerCase()) ?? c.type }));
  } finally {
    await down0.end().catch(() => down0.destroy());
  }
  const key = await unionKey(
    spec,
    target,
    indexFields,
    ignore,
    cols.map((c) => c.name),
  );
  const data: unknown[][] = [];
  for (const s of shards) {
    const up = await connect(spec.sources[s.sourceIndex]!.endpoint);
    try {
      const [rows] = await up.query<RowDataPacket[]>({
        sql: `SELECT ${cols.map((c) => q(c.name)).join(', ')} FROM ${fq(s.table)}${where}`,
        rowsAsArray: true,
      });
      data.push(...(rows as unknown as unknown[][]));
    } catch (err) {
      throw new Error(
        `cannot read shard ${spec.sources[s.sourceIndex]!.name} ${key_(s.table)} with the columns of ${key_(first.table)}: ${(err as Error).message}`,
        { cause: err },
      );
    } finally {
      await up.end().catch(() => up.destroy());
    }
  }
  const down = await connect(spec.target);
  try {
    await down.query("SET SESSION sql_mode = 'STRICT_ALL_TABLES'");
    for (const keyed of key.length ? [true, false] : [false]) {
      await down.query(`DROP DATABASE IF EXISTS ${q(SCRATCH_SCHEMA)}`);
      await down.query(`CREATE DATABASE ${q(SCRATCH_SCHEMA)} CHARACTER SET utf8mb4`);
      const defs = cols.map((c) => `${q(c.name)} ${c.type}${keyed && key.includes(c.name) ? ' NOT NULL' : ''}`);
      if (keyed) defs.push(`UNIQUE KEY (${key.map(q).join(', ')})`);
      await down.query(`CREATE TABLE ${fq(scratch)} (${defs.join(', ')})`);
      try {
        for (let i = 0; i < data.length; i += 500) {
          const part = data.slice(i, i + 500);
          try {
            await down.query(
              `INSERT INTO ${fq(scratch)} VALUES ${part.map((r) => `(${r.map(() => '?').join(', ')})`).join(', ')}`,
              part.flat(),
            );
          } catch (err) {
            throw new Error(
              `${(err as Error).message} (columns ${cols.map((c) => `${c.name} ${c.type}`).join(', ')}; first row ${JSON.stringify(part[0])})`,
              { cause: err },
            );
          }
        }
        return scratch;
      } catch (err) {
        if (!keyed) throw err;
      }
    }
  } finally {
    await down.end().catch(() => down.destroy());
  }
  return scratch;
}

async function dropScratch(ep: DbEndpoint): Promise<void> {
  const c = await connect(ep);
  try {
    await c.query(`DROP DATABASE IF EXISTS ${q(SCRATCH_SCHEMA)}`);
  } finally {
    await c.end().catch(() => c.destroy());
  }
}

export async function runDiff(spec: DiffSpec): Promise<DiffOutcome> {
  const diffs: string[] = [];
  const compared: string[] = [];
  const targets = (await baseTables(spec.target)).filter((t) => spec.check.matchTable(t.schema, t.table));
  const targetKeys = new Set(targets.map(key));
  const feeds = new Map<string, ShardRef[]>();
  for (const [i, src] of spec.sources.entries()) {
    for (const t of await baseTables(src.endpoint)) {
      const r = src.router.route(t.schema, t.table);
      const routed = key({ schema: r.schema, table: r.table });
      if (targetKeys.has(routed)) feeds.set(routed, [...(feeds.get(routed) ?? []), { sourceIndex: i, table: t }]);
      else if (spec.check.matchTable(r.schema, r.table)) {
        diffs.push(
          `${routed}: missing downstream (upstream ${src.name} has ${key(t)}${r.rule ? `, routed by ${r.rule}` : ''})`,
        );
      }
    }
  }
  const empty = targets.length === 0 && diffs.length === 0;
  if (empty) diffs.push(`no downstream table matches target-check-tables ${JSON.stringify(spec.check.rules)}`);
  for (const t of targets) {
    const shards = feeds.get(key(t)) ?? [];
    if (shards.length === 0) {
      diffs.push(
        `${key(t)}: no upstream table of ${spec.sources.map((s) => s.name).join(', ')} is routed to it (exists only downstream)`,
      );
      continue;
    }
    const cfg = spec.configs.find((c) => c.filter.matchTable(t.schema, t.table));
    const opts = { ignoreColumns: cfg?.ignoreColumns ?? [], ...(cfg?.range ? { where: cfg.range } : {}) };
    const from = shards.map((s) => `${spec.sources[s.sourceIndex]!.name}:${key(s.table)}`).join(' + ');
    compared.push(
      `${key(t)} <- ${from}${opts.ignoreColumns.length ? ` (ignoring ${opts.ignoreColumns.join(', ')})` : ''}${opts.where ? ` where ${opts.where}` : ''}`,
    );
    if (shards.length === 1) {
      const s = shards[0]!;
      const r = await compareTables(spec.sources[s.sourceIndex]!.endpoint, s.table, spec.target, t, opts);
      if (!r.equal) diffs.push(...r.diffs.map((d) => `${d} [upstream ${r.upRows} rows, downstream ${r.downRows}]`));
      continue;
    }
    try {
      const union = await assembleUnion(
        spec,
        shards,
        opts.where ? ` WHERE ${opts.where}` : '',
        t,
        cfg?.indexFields ?? [],
        new Set(opts.ignoreColumns),
      );
      const r = await compareTables(spec.target, union, spec.target, t, opts);
      const label = `${key(union)} -> ${key(t)}`;
      if (!r.equal) {
        diffs.push(
          ...r.diffs.map(
            (d) =>
              `${key(t)} (shard merge of ${from}): ${d.startsWith(label) ? d.slice(label.length + 2) : d} [upstream ${r.upRows} rows, downstream ${r.downRows}]`,
          ),
        );
      }
    } catch (err) {
      diffs.push(`${key(t)} (shard merge of ${from}): ${(err as Error).message}`);
    } finally {
      await dropScratch(spec.target).catch(() => undefined);
    }
  }
  return { ok: diffs.length === 0, diffs, compared, empty };
}
