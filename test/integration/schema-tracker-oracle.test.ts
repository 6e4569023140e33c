/**
 * The oracle for the schema tracker: every DDL sequence of the corpus runs on a private MariaDB 10.11, and after
 * EVERY statement the model applyDdl keeps must equal the one built from the server's information_schema
 * (trackedTableFromInfoSchema): columns in order with COLUMN_TYPE, DATA_TYPE, nullability, generated, charset,
 * collation and comment; every index with its name, kind and columns (so primaryKey and uniqueKeys); table and
 * database default collations; and the set of tables and databases.
 *
 * A statement the corpus marks as refused must give ok:false; the test then does what the engine does, reloading
 * the tables it names from the server, and goes on. At the end of each case the server's model must equal the
 * golden file the unit test uses (UPDATE_GOLDEN=1 rewrites it from the server).
 */
import { tableKey, type TableName } from '../../src/sql/table-name.ts';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { Connection } from 'mysql2/promise';
import { startMariaDB, type MariaDBInstance } from '../harness/index.ts';
import {
  CORPUS,
  GOLDEN_URL,
  SERVER_DEFAULT,
  formatGolden,
  parseGolden,
  renderTracker,
} from '../unit/schema-tracker-corpus.ts';
import { SchemaTracker, type SchemaTrackerOptions } from '../../src/schema/model.ts';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { INFO_SCHEMA_QUERIES, trackerFromInfoSchema, type InfoSchemaRow } from '../../src/schema/from-server.ts';

const SYSTEM = "('mysql','information_schema','performance_schema','sys')";
const update = process.env.UPDATE_GOLDEN === '1';
const golden = existsSync(GOLDEN_URL) ? parseGolden(readFileSync(GOLDEN_URL, 'utf8')) : new Map<string, string[]>();
const observed = new Map<string, string[]>();
let db: MariaDBInstance;

before(async () => {
  db = await startMariaDB({ name: 'schema-oracle' });
  const [v] = await db.query('SELECT VERSION() AS v, @@character_set_server AS cs, @@collation_server AS co');
  assert.match(v.v, /^10\.11\./, 'the reference is MariaDB 10.11');
  assert.deepEqual([v.cs, v.co], [SERVER_DEFAULT.serverCharset, SERVER_DEFAULT.serverCollation]);
});

after(async () => {
  await db?.stop();
  if (update) writeFileSync(GOLDEN_URL, formatGolden(observed));
});

async function rows(conn: Connection, sql: string): Promise<InfoSchemaRow[]> {
  const [r] = await conn.query(sql);
  return r as InfoSchemaRow[];
}

/** The whole server as a tracker, built only from information_schema (what the agent does at snapshot time). */
async function serverModel(conn: Connection, opts: SchemaTrackerOptions = SERVER_DEFAULT): Promise<SchemaTracker> {
  return trackerFromInfoSchema(
    {
      schemata: await rows(conn, `${INFO_SCHEMA_QUERIES.schemata} WHERE SCHEMA_NAME NOT IN ${SYSTEM}`),
      tables: await rows(
        conn,
        `SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES
      WHERE TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN ${SYSTEM}`,
      ),
      columns: await rows(
        conn,
        `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE,
      EXTRA, IS_GENERATED, CHARACTER_SET_NAME, COLLATION_NAME, COLUMN_COMMENT, COLUMN_DEFAULT, GENERATION_EXPRESSION FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN ${SYSTEM}`,
      ),
      statistics: await rows(
        conn,
        `SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME, INDEX_TYPE
      FROM information_schema.STATISTICS WHERE TABLE_SCHEMA NOT IN ${SYSTEM}`,
      ),
    },
    opts,
  );
}

/** Each column's canonical DEFAULT and AUTO_INCREMENT (src/schema/default-value.ts), by column. */
function defaults(t: SchemaTracker): Map<string, string> {
  return new Map(
    t
      .tables()
      .flatMap((tb) =>
        tb.columns.map(
          (col) => [`${tableKey(tb)}.${col.name}`, `${col.default ?? '-'}${col.autoIncrement ? ' ai' : ''}`] as const,
        ),
      ),
  );
}

/** Columns whose defaults differ, leaving out temporal literals, which are not normalised (documented). */
function defaultsDiffer(tracked: SchemaTracker, server: SchemaTracker): string[] {
  const a = defaults(tracked);
  const b = defaults(server);
  const temporalLiteral = (t: SchemaTracker, key: string): boolean => {
    const [s, tb, c] = key.split('.');
    const col = t.get(s!, tb!)?.columns.find((x) => x.name === c);
    return (
      col !== undefined &&
      ['date', 'datetime', 'timestamp', 'time'].includes(col.dataType) &&
      col.default !== undefined &&
      !col.default.startsWith('(')
    );
  };
  return [...new Set([...a.keys(), ...b.keys()])]
    .filter((k) => !temporalLiteral(tracked, k) && !temporalLiteral(server, k) && a.get(k) !== b.get(k))
    .map((k) => `${k}: tracked ${a.get(k)}, server ${b.get(k)}`);
}

/** What the engine does after ok:false: reload the named tables from the server (or forget them if gone). */
async function reload(conn: Connection, tracker: SchemaTracker, names: TableName[]): Promise<void> {
  const server = await serverModel(conn);
  for (const n of names) {
    const t = server.get(n.schema, n.table);
    if (t) tracker.set(t);
    else tracker.drop(n.schema, n.table);
  }
}

/**
 * Runs one corpus statement. MariaDB 10.6+ lets InnoDB's background statistics thread take a table's metadata lock
 * for a moment after a DDL, so `ALTER TABLE ... NOWAIT` can fail with ER_LOCK_WAIT_TIMEOUT (1205) through no fault of
 * the statement (seen once in CI). Retried at most 50 times, 100 ms apart; any other error fails at once.
 */
async function runOnServer(conn: Connection, sql: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await conn.query(sql);
      return;
    } catch (err) {
      if ((err as { errno?: number }).errno !== 1205 || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

for (const c of CORPUS) {
  test(c.name, async () => {
    for (const r of await db.query(
      `SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ${SYSTEM}`,
    )) {
      await db.query(`DROP DATABASE \`${r.s}\``);
    }
    await db.query('CREATE DATABASE db');
    const conn = await db.connect();
    try {
      await conn.query('USE db');
      const tracker = new SchemaTracker({ ...SERVER_DEFAULT, ...c.tracker });
      assert.ok(applyDdl(tracker, 'CREATE DATABASE db', '').ok);
      for (const [i, sql] of c.sql.entries()) {
        await runOnServer(conn, sql);
        const r = applyDdl(tracker, sql, 'db');
        const refused = c.refused?.includes(i) ?? false;
        if (refused) {
          assert.equal(r.ok, false, `statement ${i} should be refused: ${sql}`);
          if (!r.ok) await reload(conn, tracker, r.tables);
        } else {
          assert.ok(r.ok, `statement ${i} refused: ${sql}\n${r.ok ? '' : `${r.code}: ${r.reason}`}`);
        }
        const serverTracker = await serverModel(conn);
        const server = renderTracker(serverTracker);
        assert.deepEqual(renderTracker(tracker), server, `model differs from MariaDB after statement ${i}: ${sql}`);
        // DEFAULT and AUTO_INCREMENT (kept for the binlog event filter, not in the golden file): canonical forms agree.
        assert.deepEqual(
          defaultsDiffer(tracker, serverTracker),
          [],
          `DEFAULT/AUTO_INCREMENT differ from MariaDB after statement ${i}: ${sql}`,
        );
      }
      const final = renderTracker(await serverModel(conn));
      observed.set(c.name, final);
      if (!update)
        assert.deepEqual(
          golden.get(c.name),
          final,
          'golden file differs from the server: review, then UPDATE_GOLDEN=1',
        );
    } finally {
      await conn.end();
    }
  });
}
