import type { Connection } from 'mysql2/promise';
import type { TableName } from '../../src/sql/table-name.ts';
import type { BinlogOperator } from '../../src/coord/records.ts';
import { DmError } from '../../src/errors/index.ts';
import { OnlineDdlTables } from '../../src/filter/online-ddl-tables.ts';
import { classifyQuery, rewriteDdl, splitDdl } from '../../src/sql/ddl.ts';
import type { QueryEvent } from '../binlog/events.ts';
import { posKey } from '../../src/binlog/position.ts';
import { deleteRows, META_TABLES } from '../checkpoint-tables.ts';
import { query } from '../db/mysql.ts';
import type { SubtaskContext } from '../unit.ts';

/**
 * online-ddl (DM's RealOnlinePlugin, dm/syncer/online-ddl-tools): gh-ost and pt-online-schema-change build a
 * shadow copy of a table (`_t_gho` / `_t_new`), ALTER it, fill it, then swap it in with
 * `RENAME TABLE t TO _t_del, _t_gho TO t` (pt-osc: `_t_old`, `_t_new`). Replicating that literally would copy the
 * whole table downstream once more. Instead, as DM does:
 *   1. DDL on a shadow table is not run downstream: CREATE/DROP of it forget what was remembered for it; any other
 *      statement (the tool's ALTER) is remembered, with its names changed to the real table.
 *   2. DDL on a trash table (`_t_ghc`, `_t_del`, `_t_old`) is ignored; rows of shadow and trash tables are never
 *      migrated (rules.skipRow) and the dump skips those tables.
 *   3. The swap: `real -> trash` is ignored; `shadow -> real` runs the remembered statements on the real table
 *      instead (then forgets them). A swap whose shadow ALTER was never seen (the task started while the tool ran)
 *      pauses with an error; `dmctl binlog replace` supplies the ALTER, as DM's error asks.
 *   4. A rename from a real table to a shadow one, or from a shadow table to another shadow table, is an error.
 *
 * The decision for a statement is handed to the sync unit as a `dmctl binlog` decision at its position (replace
 * with the statements to run, or skip), so the usual DDL path applies it: filters, routing, shard-DDL locks, the
 * crash marker and the checkpoint move. A user's own `dmctl binlog` decision at that position wins.
 *
 * The remembered statements are stored in `<meta-schema>.<task>_onlineddl` (DM keeps them in a table of the same
 * name), one row per (source, shadow table), each statement with the position it was read at:
 * - crash after storing, before the checkpoint moved past the ALTER: the replay finds that position stored and does
 *   not store it twice;
 * - crash after the swap's statements ran, before they were forgotten: the checkpoint is past the swap, so it is
 *   not replayed; the stale row is forgotten at the tool's next CREATE of that shadow table;
 * - rows carry the migration's sync start (`origin`): after `start-task --remove-meta` a new full migration has a
 *   new one and rows of the old run are dropped.
 */
interface Saved {
  pos: string;
  sql: string;
}

export class OnlineDdl {
  private readonly decisions = new Map<string, BinlogOperator>();
  private readonly forgetAfter = new Map<string, string[]>();
  private saved: Map<string, Saved[]> | undefined;
  private origin = '';
  private readonly table: string;
  private readonly tables: OnlineDdlTables;

  constructor(
    private readonly ctx: SubtaskContext,
    private readonly down: Connection,
  ) {
    this.tables = new OnlineDdlTables(ctx.task.onlineDdl!);
    this.table = ctx.ckpt.onlineDdlT;
  }

  /** The context the sync unit uses: binlog decisions for online-DDL statements come after the user's own. */
  wrap(ctx: SubtaskContext): SubtaskContext {
    return { ...ctx, binlogOp: (p) => ctx.binlogOp(p) ?? this.decisions.get(p) };
  }

  /** Decides what the DDL event `ev` becomes (steps 1–4); the sync unit calls it just before applying `ev`. */
  async prepare(ev: QueryEvent): Promise<void> {
    const { ctx } = this;
    const at = posKey(ev.end);
    if (ctx.binlogOp(at)) return;
    const info = classifyQuery(ev.sql, ev.schema);
    if (info.kind !== 'ddl' || !info.tables.some((t) => t.table && this.tables.type(t.table) !== 'real')) return;
    // Statements of tables outside the block-allow list (by their real names) are dropped by the usual path.
    if (!info.tables.some((t) => t.table && ctx.rules.allowTable(t.schema, t.table))) return;
    await this.load();
    const run: string[] = [];
    const forget: string[] = [];
    for (const stmt of splitDdl(ev.sql, ev.schema)) {
      const sub = classifyQuery(stmt, ev.schema);
      const tabs = sub.tables.filter((t) => t.table);
      const first = tabs[0];
      if (!first) {
        run.push(stmt);
        continue;
      }
      const k0 = this.tables.type(first.table);
      const to = sub.eventType === 'rename table' && tabs.length === 2 ? tabs[1]! : undefined;
      const k1 = to ? this.tables.type(to.table) : undefined;
      if (to && k1 === 'ghost' && k0 !== 'trash')
        throw this.error(`online DDL: ${stmt} renames ${name(first)} to the shadow table ${name(to)}`, ev, stmt);
      if (k0 === 'real') {
        if (k1 !== 'trash') run.push(stmt); // `t -> _t_del` is the first half of the swap: nothing to do
        continue;
      }
      if (k0 === 'trash') {
        if (k1 === 'ghost')
          throw this.error(`online DDL: ${stmt} renames the trash table ${name(first)} to a shadow table`, ev, stmt);
        continue;
      }
      const key = keyOf(first);
      const real = { schema: first.schema, table: this.tables.realName(first.table) };
      if (to && k1 === 'real') {
        if (!ctx.rules.allowTable(to.schema, to.table)) continue;
        const saved = this.saved!.get(key) ?? [];
        if (saved.length === 0) {
          throw this.error(
            `online DDL: ${stmt} puts the shadow table ${name(first)} in place of ${name(to)}, but no DDL on ${name(first)} was read (did the task start while gh-ost/pt-osc ran?)`,
            ev,
            stmt,
            `Run the tool's ALTER on the real table in its place: \`dmctl binlog replace ${ctx.task.name} "ALTER TABLE ${name(to)} …"\`, or skip it with \`dmctl binlog skip ${ctx.task.name}\` if the downstream already has the change.`,
          );
        }
        for (const s of saved) run.push(rewriteDdl(s.sql, first.schema, (t) => (sameTable(t, real) ? to : t)));
        forget.push(key);
        continue;
      }
      if (to || sub.eventType === 'create table' || sub.eventType === 'drop table') {
        await this.forget(key);
        continue;
      }
      await this.save(
        key,
        at,
        rewriteDdl(stmt, ev.schema, (t) => (sameTable(t, first) ? real : t)),
      );
    }
    const base = { source: ctx.spec.sourceId, position: at, createdAt: new Date().toISOString() };
    this.decisions.set(at, run.length ? { ...base, op: 'replace', sqls: run } : { ...base, op: 'skip' });
    if (forget.length) this.forgetAfter.set(at, forget);
    ctx.log.info(
      { sql: ev.sql, position: at, runs: run },
      run.length ? 'online DDL: statement rewritten' : 'online DDL: shadow/trash table statement not replicated',
    );
  }

  /** After the sync unit applied `ev` (its checkpoint moved past it). */
  async done(ev: QueryEvent): Promise<void> {
    const at = posKey(ev.end);
    this.decisions.delete(at);
    for (const key of this.forgetAfter.get(at) ?? []) await this.forget(key);
    this.forgetAfter.delete(at);
  }

  private error(message: string, ev: QueryEvent, sql: string, suggestion?: string): DmError {
    return new DmError('UnsupportedEvent', message, {
      context: { sql, position: posKey(ev.end) },
      suggestion:
        suggestion ??
        `Skip it with \`dmctl binlog skip ${this.ctx.task.name}\` or run other SQL in its place with \`dmctl binlog replace\`.`,
    });
  }

  private async load(): Promise<void> {
    if (this.saved) return;
    const st = await this.ctx.ckpt.readState(this.down);
    this.origin = st?.syncStart ? posKey(st.syncStart) : '';
    // The table is one of the task's meta tables (agent/checkpoint-tables.ts); rows are deleted by key, one by one.
    await deleteRows(this.down, this.table, META_TABLES.onlineddl.key, 'source = ? AND origin <> ?', [
      this.ctx.spec.sourceId,
      this.origin,
    ]);
    const rows = await query<{ ghost_schema: string; ghost_table: string; ddls: string }[]>(
      this.down,
      'downstream',
      `SELECT ghost_schema, ghost_table, ddls FROM ${this.table} WHERE source = ?`,
      [this.ctx.spec.sourceId],
    );
    this.saved = new Map(rows.map((r) => [`${r.ghost_schema}\0${r.ghost_table}`, JSON.parse(r.ddls) as Saved[]]));
  }

  private async save(key: string, pos: string, sql: string): Promise<void> {
    const list = this.saved!.get(key) ?? [];
    if (list.some((s) => s.pos === pos && s.sql === sql)) return; // replay after a crash
    list.push({ pos, sql });
    this.saved!.set(key, list);
    const [schema, table] = key.split('\0') as [string, string];
    await query(
      this.down,
      'downstream',
      `INSERT INTO ${this.table} (source, ghost_schema, ghost_table, origin, ddls) VALUES (?, ?, ?, ?, ?)
      ON DUPLICATE KEY UPDATE origin = VALUES(origin), ddls = VALUES(ddls)`,
      [this.ctx.spec.sourceId, schema, table, this.origin, JSON.stringify(list)],
    );
  }

  private async forget(key: string): Promise<void> {
    await this.load();
    if (!this.saved!.delete(key)) return;
    const [schema, table] = key.split('\0') as [string, string];
    await query(
      this.down,
      'downstream',
      `DELETE FROM ${this.table} WHERE source = ? AND ghost_schema = ? AND ghost_table = ?`,
      [this.ctx.spec.sourceId, schema, table],
    );
  }
}

const keyOf = (t: TableName) => `${t.schema}\0${t.table}`;
const name = (t: TableName) => `\`${t.schema}\`.\`${t.table}\``;
const sameTable = (a: TableName, b: TableName) => a.schema === b.schema && a.table === b.table;
