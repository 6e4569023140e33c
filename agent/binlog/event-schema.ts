import { DmError } from '../../src/errors/index.ts';
import { tablesBefore } from '../../src/filter/ddl-events.ts';
import { applyDdl } from '../../src/schema/apply-ddl.ts';
import { toTableInfo } from '../../src/schema/from-server.ts';
import type { SchemaTracker, TrackedTable } from '../../src/schema/model.ts';
import type { TableInfo } from '../db/schema.ts';

/** What the schema at event time needs from its reader. */
export interface EventSchemaOptions {
  /** The upstream schema as of the reader's start; every DDL is applied to it in stream order. */
  tracker: SchemaTracker;
  /** The table as the upstream describes it now: used only for tables the tracker cannot model (logged). */
  live: (schema: string, table: string) => Promise<TrackedTable | undefined>;
  warn: (msg: string, detail: Record<string, unknown>) => void;
}

/** A DDL as the schema at event time applied it: the altered tables before it, and the whole schema after it. */
export interface AppliedStatement {
  tablesBefore: TrackedTable[];
  trackerAfter: unknown;
}

/**
 * The upstream schema as of the event being read, one implementation for both binlog readers (the direct one,
 * zongji-reader.ts, and the relay's, relay/reader.ts). Row events are decoded with the structure tracked at their
 * place in the stream, never with the upstream's current one: every DDL updates the tracker in stream order, whatever
 * the filters, and drops the cached table structures so the next row event of any table sees the schema as of after
 * that statement. A statement the tracker cannot model drops the tables it names: their structure is then read from
 * the upstream when next needed, with a warning.
 */
export class EventSchema {
  private readonly infos = new Map<string, TableInfo>();

  constructor(private readonly o: EventSchemaOptions) {}

  /** The tracked table, if the tracker has it. */
  tracked(schema: string, table: string): TrackedTable | undefined {
    return this.o.tracker.get(schema, table);
  }

  /** The table at `where`: tracked, or read from the upstream now and tracked from then on (warned). */
  async table(schema: string, table: string, where: string): Promise<TrackedTable> {
    const tracked = this.o.tracker.get(schema, table);
    if (tracked) return tracked;
    const t = await this.o.live(schema, table);
    if (!t)
      throw new DmError('UnsupportedEvent', `no schema known for ${schema}.${table} (${where})`, {
        context: { table: `${schema}.${table}`, position: where },
      });
    this.o.warn('table not in the schema tracker: using its current upstream structure', {
      table: `${schema}.${table}`,
      position: where,
    });
    this.o.tracker.set(t);
    return t;
  }

  /**
   * Belt and braces: the tracked table must have as many columns as the event carries, or decoding would put values
   * in the wrong columns. `what` names the event's source ("the binlog event", "the relay").
   */
  checkWidth(t: TrackedTable, width: number, what: string, where: string): void {
    if (t.columns.length === width) return;
    throw new DmError(
      'UnsupportedEvent',
      `${t.schema}.${t.table} has ${t.columns.length} columns in the schema tracker but ${width} in ${what} at ${where}`,
      {
        context: { table: `${t.schema}.${t.table}`, position: where },
        suggestion: `Give the schema tracker the table as it was at this event: \`dmctl binlog-schema update TASK ${t.schema} ${t.table}\` with --from-source (the upstream's table now), --from-target (the downstream's) or a file holding its CREATE TABLE, then \`dmctl resume-task TASK\`; or start the task again with --remove-meta.`,
      },
    );
  }

  /** The table's structure for row changes (keys, generated and binary columns), cached until the next DDL. */
  info(t: TrackedTable): TableInfo {
    const key = `${t.schema}\0${t.table}`;
    let info = this.infos.get(key);
    if (!info) {
      info = toTableInfo(t);
      this.infos.set(key, info);
    }
    return info;
  }

  /** The cached structure of a table, if a row event of it was prepared since the last DDL. */
  cachedInfo(schema: string, table: string): TableInfo | undefined {
    return this.infos.get(`${schema}\0${table}`);
  }

  /** A DDL statement, in stream order. */
  applyStatement(sql: string, currentSchema: string, where: string): AppliedStatement {
    const before = tablesBefore(this.o.tracker, sql, currentSchema);
    const applied = applyDdl(this.o.tracker, sql, currentSchema);
    if (!applied.ok) {
      for (const t of applied.tables) this.o.tracker.drop(t.schema, t.table);
      if (applied.tables.length)
        this.o.warn('schema tracker cannot model this statement', {
          sql: sql.slice(0, 300),
          reason: applied.reason,
          position: where,
        });
    }
    this.infos.clear();
    return { tablesBefore: before, trackerAfter: this.o.tracker.toJSON() };
  }
}
