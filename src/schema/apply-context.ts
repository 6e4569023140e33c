/**
 * One statement being applied to the tracker: a cursor over its tokens (past MariaDB's `SET STATEMENT ... FOR`), the
 * tracker, the event's current schema, and the lookups every statement-kind handler shares (apply-database.ts,
 * apply-table.ts, apply-index.ts).
 */
import { tableKey, type TableName } from '../sql/table-name.ts';
import type { Token } from '../sql/lexer.ts';
import type { CharsetDefault } from './column-def.ts';
import { Cursor, ParseError } from './cursor.ts';
import type { SchemaTracker, TrackedTable } from './model.ts';

/** The statement names a table (or database) the model lacks: `code` is ApplyFailure.UnknownTable or UnknownSchema. */
export class UnknownObject extends Error {
  constructor(
    readonly code: 'unknown-table' | 'unknown-schema',
    message: string,
  ) {
    super(message);
  }
}

export class DdlStatement {
  readonly c: Cursor;

  constructor(
    readonly tracker: SchemaTracker,
    t: Token[],
    readonly currentSchema: string,
  ) {
    let end = t.length;
    while (end > 0 && t[end - 1]!.type === 'op' && t[end - 1]!.text === ';') end--;
    this.c = new Cursor(t, statementStart(t), end);
  }

  tableName(): TableName {
    return this.resolve(this.c.qualifiedName());
  }

  resolve(q: { schema?: string; name: string }): TableName {
    const schema = q.schema ?? this.currentSchema;
    if (schema === '') throw new ParseError(`table ${q.name} has no schema and the event has no current schema`);
    return { schema: this.tracker.fold(schema), table: this.tracker.fold(q.name) };
  }

  mustGet(n: TableName): TrackedTable {
    const t = this.tracker.get(n.schema, n.table);
    if (!t) throw new UnknownObject('unknown-table', `table ${tableKey(n)} is not in the model`);
    return t;
  }

  serverDefault(): CharsetDefault {
    return { charset: this.tracker.serverCharset, collation: this.tracker.serverCollation };
  }

  dbDefault(schema: string): CharsetDefault {
    return this.tracker.getSchema(schema) ?? this.serverDefault();
  }
}

/** After MariaDB's `SET STATEMENT var=value, ... FOR`, where the statement itself starts. */
function statementStart(t: Token[]): number {
  if (!(t[0]?.upper === 'SET' && t[0].type === 'word' && t[1]?.upper === 'STATEMENT')) return 0;
  let depth = 0;
  for (let j = 2; j < t.length; j++) {
    const x = t[j]!;
    if (x.text === '(') depth++;
    else if (x.text === ')') depth--;
    else if (depth === 0 && x.type === 'word' && x.upper === 'FOR') return j + 1;
  }
  return 0;
}
