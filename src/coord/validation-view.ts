import type { RowCounts, ValidationStatus } from './records.ts';

const c = (x: RowCounts) => `${x.insert}/${x.update}/${x.delete}`;

/** A subtask's continuous validation in one line (query-status, the dashboard's task detail). */
export function validationLine(v: ValidationStatus): string {
  const stopped = v.tables.filter((t) => t.stage === 'Stopped').length;
  return (
    `validation ${v.stage} (mode ${v.mode}): processed ${c(v.processed)}  pending ${c(v.pending)} (insert/update/delete)` +
    `  errors new/ignored/resolved ${v.errors.new}/${v.errors.ignored}/${v.errors.resolved}` +
    (stopped ? `  ${stopped} table(s) not validated` : '') +
    (v.result ? `  — ${v.result}` : '')
  );
}
