/** Applying CREATE INDEX / DROP INDEX to the tracker (apply-ddl.ts dispatches here). */
import type { TableName } from '../sql/table-name.ts';
import type { DdlStatement } from './apply-context.ts';
import { changeIndexes } from './alter-table.ts';
import { parseKeyParts } from './indexes.ts';
import { tableOf, type IndexSpec } from './model.ts';

export function createIndex(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('CREATE');
  const orReplace = c.kw('OR', 'REPLACE');
  c.kwAny('ONLINE', 'OFFLINE');
  const kindWord = c.kwAny('UNIQUE', 'FULLTEXT', 'SPATIAL');
  c.must('INDEX');
  const ifNotExists = c.kw('IF', 'NOT', 'EXISTS');
  const indexName = c.ident();
  if (c.kw('USING') || c.kw('TYPE')) c.next();
  c.must('ON');
  const name = s.tableName();
  if (c.kw('USING') || c.kw('TYPE')) c.next();
  const spec: IndexSpec = {
    kind:
      kindWord === 'UNIQUE'
        ? 'unique'
        : kindWord === 'FULLTEXT'
          ? 'fulltext'
          : kindWord === 'SPATIAL'
            ? 'spatial'
            : 'index',
    name: indexName,
    columns: parseKeyParts(c),
  };
  if (ifNotExists) spec.ifNotExists = true;
  const t = s.mustGet(name);
  const drops = orReplace ? [{ name: indexName, ifExists: true }] : [];
  const { indexes, columns } = changeIndexes(t, t.columns, new Map(), drops, [], [spec]);
  s.tracker.set(tableOf({ ...t, columns, indexes }));
  return [name];
}

export function dropIndex(s: DdlStatement): TableName[] {
  const c = s.c;
  c.must('DROP');
  c.kwAny('ONLINE', 'OFFLINE');
  c.must('INDEX');
  const ifExists = c.kw('IF', 'EXISTS');
  const indexName = c.ident();
  c.must('ON');
  const name = s.tableName();
  const t = s.mustGet(name);
  const isPrimary = indexName.toUpperCase() === 'PRIMARY';
  const { indexes, columns } = changeIndexes(
    t,
    t.columns,
    new Map(),
    [{ name: isPrimary ? 'PRIMARY' : indexName, ifExists }],
    [],
    [],
  );
  s.tracker.set(tableOf({ ...t, columns, indexes }));
  return [name];
}
