import type { Connection } from 'mysql2/promise';
import {
  INFO_SCHEMA_QUERIES,
  trackedTableFromInfoSchema,
  trackerFromInfoSchema,
  type InfoSchemaRow,
} from '../../src/schema/from-server.ts';
import { SchemaTracker, type SchemaTrackerOptions, type TrackedTable } from '../../src/schema/model.ts';
import { query, type Side } from './mysql.ts';

/** The schema tracker's starting points, read from a live server's information_schema (the queries live here). */

const SYSTEM = `('mysql','information_schema','performance_schema','sys')`;

export async function trackerOptions(conn: Connection, side: Side): Promise<SchemaTrackerOptions> {
  const [v] = await query<Record<string, string | number>[]>(
    conn,
    side,
    'SELECT @@character_set_server AS cs, @@collation_server AS co, @@lower_case_table_names AS lc, @@global.explicit_defaults_for_timestamp AS edt',
  );
  return {
    serverCharset: String(v?.cs),
    serverCollation: String(v?.co),
    lowerCaseTableNames: Number(v?.lc) === 1,
    explicitDefaultsForTimestamp: Number(v?.edt) === 1,
  };
}

/** Every non-system schema and base table of the server, as one tracker (run it under FTWRL for a snapshot). */
export async function snapshotTracker(conn: Connection, side: Side): Promise<SchemaTracker> {
  const rows = (sql: string) => query<InfoSchemaRow[]>(conn, side, sql);
  return trackerFromInfoSchema(
    {
      schemata: await rows(
        `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ${SYSTEM}`,
      ),
      tables: await rows(
        `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ${SYSTEM}`,
      ),
      columns:
        await rows(`SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT,
      COLUMN_DEFAULT, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ${SYSTEM}`),
      statistics: await rows(
        `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, INDEX_TYPE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA NOT IN ${SYSTEM}`,
      ),
    },
    await trackerOptions(conn, side),
  );
}

/** One table as the server describes it now (the fallback when the tracker could not model a DDL). */
export async function liveTrackedTable(
  conn: Connection,
  side: Side,
  schema: string,
  table: string,
): Promise<TrackedTable | undefined> {
  const cols = await query<InfoSchemaRow[]>(conn, side, INFO_SCHEMA_QUERIES.columns, [schema, table]);
  if (cols.length === 0) return undefined;
  const stats = await query<InfoSchemaRow[]>(conn, side, INFO_SCHEMA_QUERIES.statistics, [schema, table]);
  const [t] = await query<InfoSchemaRow[]>(conn, side, INFO_SCHEMA_QUERIES.table, [schema, table]);
  return t ? trackedTableFromInfoSchema(cols, stats, t) : undefined;
}
