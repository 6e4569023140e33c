/**
 * Issue #18, `dmctl plan`: on DM's own cases (../shared/dm-cases: sharding, extend_column, expression_filter), the
 * plan of the task file is what the task then does. For each case: the case's prepare SQL, the sources, `dmctl plan
 * --json` (which must write nothing: no upstream binlog event, no downstream schema), then start-task and catch-up,
 * and then
 * - the plan's targets are exactly the tables (and its CREATE DATABASE targets the schemas) that reached the
 *   downstream;
 * - each table the plan says its statement creates has, downstream, the structure that statement gives (both through
 *   SHOW CREATE TABLE: the plan's statement run in a scratch schema), and a table that existed is unchanged;
 * - each target holds the rows of the upstream tables the plan routes to it, with the extended-column values the
 *   plan gives each of them; the expression filters the plan lists drop the rows they say (the case's increments).
 * Skipped with a message when the cases folder is absent (users' clones do not have it).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskPlanResult } from '../../src/coord/index.ts';
import { startSandbox, type MariaDBInstance, type Sandbox } from '../harness/index.ts';
import {
  readYaml,
  replacePlaceholders,
  rewriteSource,
  rewriteTask,
  runShPlaceholders,
} from '../conformance/case-files.ts';
import { Cluster, masterPosition, waitCaughtUp } from '../conformance/cluster.ts';
import { DEFAULT_CASES_DIR } from '../conformance/run.ts';
import { mysql8Gated, splitSql } from '../conformance/sql-script.ts';

const CASES = process.env['TSDM_DM_CASES'] ?? DEFAULT_CASES_DIR;
const skip = existsSync(CASES) ? false : `DM's cases not found at ${CASES}`;
const SYSTEM = ['mysql', 'information_schema', 'performance_schema', 'sys', 'dm_meta', 'plan_check'];
const q = (id: string) => '`' + id.replace(/`/g, '``') + '`';

let sb: Sandbox;
const work = mkdtempSync(join(tmpdir(), 'tsdm-plan-'));
before(async () => {
  if (!skip) sb = await startSandbox({ upstreams: 2 });
});
after(async () => {
  await sb?.stop();
  rmSync(work, { recursive: true, force: true });
});

type On = 1 | 2 | 'down';
const server = (on: On): MariaDBInstance => (on === 'down' ? sb.downstream : sb.upstreams[on - 1]!);

async function runFile(caseName: string, on: On, file: string): Promise<void> {
  const conn = await server(on).connect();
  try {
    for (const st of splitSql(readFileSync(join(CASES, caseName, 'data', file), 'utf8')))
      if (!mysql8Gated(st.sql)) await conn.query(st.sql);
  } finally {
    await conn.end();
  }
}

async function reset(): Promise<void> {
  for (const db of [...sb.upstreams, sb.downstream]) {
    const rows: { s: string }[] = await db.query(
      "SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN ('mysql','information_schema','performance_schema','sys')",
    );
    for (const { s } of rows) await db.query(`DROP DATABASE ${q(s)}`);
    await db.query('SET GLOBAL sql_mode = DEFAULT');
    if (db.upstream) await db.query('RESET MASTER');
  }
}

async function userSchemas(db: MariaDBInstance): Promise<string[]> {
  const rows: { s: string }[] = await db.query('SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA');
  return rows.map((r) => r.s).filter((s) => !SYSTEM.includes(s));
}

async function userTables(db: MariaDBInstance): Promise<string[]> {
  const rows: { s: string; t: string }[] = await db.query(
    "SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE'",
  );
  return rows
    .filter((r) => !SYSTEM.includes(r.s))
    .map((r) => `${r.s}.${r.t}`)
    .sort();
}

/** SHOW CREATE TABLE without the table's name and AUTO_INCREMENT counter (rows loaded move it). */
async function shape(db: MariaDBInstance, schema: string, table: string): Promise<string> {
  const [row] = await db.query(`SHOW CREATE TABLE ${q(schema)}.${q(table)}`);
  return String(row['Create Table'])
    .replace(/^CREATE TABLE `(?:[^`]|``)+`/, 'CREATE TABLE')
    .replace(/\s+AUTO_INCREMENT=\d+/, '');
}

async function count(db: MariaDBInstance, schema: string, table: string, where = ''): Promise<number> {
  const [row] = await db.query(`SELECT COUNT(*) AS n FROM ${q(schema)}.${q(table)}${where ? ` WHERE ${where}` : ''}`);
  return Number(row.n);
}

interface Case {
  name: string;
  /** SQL before the prepare files (run.sh's), prepare files per server, and the task's placeholders. */
  before?: { on: On; sql: string }[];
  files: { on: On; file: string }[];
  placeholders?: Record<string, string>;
  /** Also check the text form (check-task --plan): once is enough, each dmctl process costs seconds. */
  text?: boolean;
  /** After the first catch-up: more of the case's flow, and its check. */
  then?: (c: Cluster, p: TaskPlanResult) => Promise<void>;
}

async function runCase(k: Case, n: number): Promise<TaskPlanResult> {
  await reset();
  for (const b of k.before ?? []) await server(b.on).query(b.sql);
  for (const f of k.files) await runFile(k.name, f.on, f.file);
  const c = await Cluster.start(sb, `plan${n}`);
  /** source-id -> its upstream server. */
  const ups = new Map<string, MariaDBInstance>();
  const upOf = (source: string): MariaDBInstance => ups.get(source)!;
  try {
    const facts = await Promise.all(
      sb.upstreams.map(async (u) => ({
        firstBinlog: String((await u.query('SHOW BINARY LOGS'))[0]?.Log_name ?? ''),
        emptyGtid: `0-${u.serverId}-0`,
      })),
    );
    const values = { ...runShPlaceholders(facts), ...k.placeholders };
    const conf = join(CASES, k.name, 'conf');
    for (const [i, f] of ['source1.yaml', 'source2.yaml'].entries()) {
      if (!existsSync(join(conf, f))) continue;
      const path = join(work, `${k.name}-${f}`);
      const text = replacePlaceholders(readFileSync(join(conf, f), 'utf8'), values);
      ups.set(String((readYaml(text) as { 'source-id': string })['source-id']), sb.upstreams[i]!);
      writeFileSync(path, rewriteSource(text, sb.upstreams[i]!).text);
      const r = await c.ctl(['operate-source', 'create', path, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const taskPath = join(work, `${k.name}-dm-task.yaml`);
    writeFileSync(
      taskPath,
      rewriteTask(replacePlaceholders(readFileSync(join(conf, 'dm-task.yaml'), 'utf8'), values), sb.downstream).text,
    );

    // The plan writes nothing: no binlog event upstream, no schema or table downstream.
    const heads = await Promise.all(sb.upstreams.map(masterPosition));
    const downBefore = await userTables(sb.downstream);
    const schemasBefore = await userSchemas(sb.downstream);
    const r = await c.ctl(['plan', taskPath, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const p = r.json.plan as TaskPlanResult;
    if (k.text) {
      // The text form, through check-task --plan: the checks, then every target of the plan.
      const text = await c.ctl(['check-task', taskPath, '--plan']);
      assert.equal(text.code, 0, text.stdout + text.stderr);
      assert.match(text.stdout, /^ok {3}downstream connection$/m);
      for (const t of p.targets) assert.ok(text.stdout.includes(`  ${t.schema}.${t.table}: `), text.stdout);
    }
    assert.deepEqual(await Promise.all(sb.upstreams.map(masterPosition)), heads, 'the plan wrote upstream');
    assert.deepEqual(await userTables(sb.downstream), downBefore, 'the plan created tables downstream');
    assert.deepEqual(await userSchemas(sb.downstream), schemasBefore, 'the plan created schemas downstream');
    const existed = new Map<string, string>();
    for (const t of p.targets.filter((x) => x.exists))
      existed.set(`${t.schema}.${t.table}`, await shape(sb.downstream, t.schema, t.table));

    const s = await c.ctl(['start-task', taskPath, '--json']);
    assert.equal(s.code, 0, s.stdout + s.stderr);
    const sourceHeads = new Map<string, { name: string; pos: number }>();
    for (const [id, up] of ups) sourceHeads.set(id, await masterPosition(up));
    await waitCaughtUp(c, p.task, p.taskMode, sourceHeads);

    // Targets and schemas: what the plan says, and nothing else.
    assert.deepEqual(
      await userTables(sb.downstream),
      p.targets.map((t) => `${t.schema}.${t.table}`).sort(),
      'downstream tables = the plan targets',
    );
    const planned = new Set([
      ...schemasBefore,
      ...p.statements.filter((x) => x.kind === 'database').map((x) => x.target.schema),
    ]);
    assert.deepEqual((await userSchemas(sb.downstream)).sort(), [...planned].sort(), 'downstream schemas');
    // Structures: a created table is what the plan's statement makes; an existing one is untouched.
    await sb.downstream.query('CREATE DATABASE plan_check');
    try {
      for (const t of p.targets) {
        const have = await shape(sb.downstream, t.schema, t.table);
        if (t.exists) {
          assert.equal(have, existed.get(`${t.schema}.${t.table}`), `${t.schema}.${t.table} changed`);
          continue;
        }
        assert.ok(t.createdBy, `the plan says nothing creates ${t.schema}.${t.table}`);
        const head = `CREATE TABLE IF NOT EXISTS ${q(t.schema)}.${q(t.table)}`;
        assert.ok(t.createdBy.sql.startsWith(head), t.createdBy.sql);
        await sb.downstream.query(`CREATE TABLE plan_check.${q(t.table)}${t.createdBy.sql.slice(head.length)}`);
        assert.equal(have, await shape(sb.downstream, 'plan_check', t.table), `${t.schema}.${t.table} structure`);
      }
    } finally {
      await sb.downstream.query('DROP DATABASE plan_check');
    }
    // Rows: each upstream table's rows are in its target, with the plan's extended-column values.
    for (const t of p.tables) {
      const up = upOf(t.source);
      const ext = Object.entries(t.extendedColumns ?? {});
      const where = ext.map(([col, v]) => `${q(col)} = '${v.replace(/'/g, "''")}'`).join(' AND ');
      const want = await count(up, t.schema, t.table);
      if (ext.length || t.mergedWith.length === 0)
        assert.equal(
          await count(sb.downstream, t.target.schema, t.target.table, where),
          want,
          `rows of ${t.source}:${t.schema}.${t.table}`,
        );
    }
    for (const g of p.targets) {
      let sum = 0;
      for (const f of g.from) sum += await count(upOf(f.source), f.schema, f.table);
      assert.equal(await count(sb.downstream, g.schema, g.table), sum, `rows of ${g.schema}.${g.table}`);
    }
    await k.then?.(c, p);
    return p;
  } finally {
    await c.stop();
  }
}

test('dmctl plan: sharding (shard merge across two sources)', { skip, timeout: 120_000 }, async () => {
  const p = await runCase(
    {
      name: 'sharding',
      text: true,
      before: [{ on: 2, sql: "SET GLOBAL SQL_MODE='ANSI_QUOTES'" }],
      files: [
        { on: 1, file: 'db1.prepare.sql' },
        { on: 2, file: 'db2.prepare.sql' },
      ],
    },
    1,
  );
  const merged = p.targets.find((t) => t.schema === 'db_target' && t.table === 't_target');
  assert.ok(merged, JSON.stringify(p.targets));
  assert.equal(merged.from.length, 4);
  assert.equal(p.shardMode, 'pessimistic');
  const t1 = p.tables.find((t) => t.table === 't1')!;
  assert.equal(t1.route, 'sharding-route-rules-table');
  assert.deepEqual(t1.key, { kind: 'primary', columns: ['id'] });
  assert.equal(t1.mergedWith.length, 3);
});

test('dmctl plan: extend_column (extended columns, targets made beforehand)', { skip, timeout: 120_000 }, async () => {
  const p = await runCase(
    {
      name: 'extend_column',
      files: [
        { on: 1, file: 'db1.prepare.sql' },
        { on: 2, file: 'db2.prepare.sql' },
        { on: 'down', file: 'tidb.prepare.sql' },
      ],
      placeholders: { 'import-mode-placeholder': 'sql' },
    },
    2,
  );
  const t1 = p.tables.find((t) => t.source === 'mysql-replica-01' && t.table === 't1')!;
  assert.deepEqual(t1.extendedColumns, { c_table: '1', c_schema: 'extend_column1', c_source: 'replica01' });
  assert.ok(p.targets.every((t) => t.exists));
});

test('dmctl plan: expression_filter (rows the filters name are dropped in sync)', {
  skip,
  timeout: 120_000,
}, async () => {
  await runCase(
    {
      name: 'expression_filter',
      files: [{ on: 1, file: 'db1.prepare.sql' }],
      then: async (c, p) => {
        const t1 = p.tables.find((t) => t.table === 't1')!;
        assert.ok(t1.expressionFilters.length >= 20, JSON.stringify(t1.expressionFilters));
        assert.ok(t1.expressionFilters.some((x) => x.rule === 'c_null' && x.key === 'insert-value-expr'));
        await runFile('expression_filter', 1, 'db1.increment.sql');
        await waitCaughtUp(
          c,
          p.task,
          p.taskMode,
          new Map([['mysql-replica-01', await masterPosition(sb.upstreams[0]!)]]),
        );
        const up = sb.upstreams[0]!;
        assert.equal(
          await count(sb.downstream, 'expr_filter', 't1'),
          await count(up, 'expr_filter', 't1', 'should_skip = 0'),
        );
        assert.equal(await count(sb.downstream, 'expr_filter', 't1', 'should_skip = 1'), 0);
      },
    },
    3,
  );
});
