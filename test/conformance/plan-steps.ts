/** Step builders for the hand plans (plans.ts, plans-more.ts): run.sh's verbs as plan steps. */
import type { On, Step } from './plan.ts';

export const sql = (on: On, ...stmts: string[]): Step => ({ kind: 'sql', on, sql: stmts });
export const why = (s: Step, text: string): Step => ({ ...s, why: text });
export const file = (on: On, f: string): Step => ({ kind: 'file', on, file: f });
export const sources: Step = { kind: 'sources' };
export const start = (removeMeta = true): Step => ({ kind: 'start', removeMeta });
export const caughtUp: Step = { kind: 'caughtUp' };
export const diff = (f: string, edits?: [string, string][]): Step =>
  edits ? { kind: 'diff', file: f, edits } : { kind: 'diff', file: f };
export const expectDown = (q: string | string[], equals: string | number, reason?: string): Step => ({
  kind: 'expect',
  on: 'down',
  sql: Array.isArray(q) ? q : [q],
  equals: String(equals),
  ...(reason ? { why: reason } : {}),
});
export const prepare12: Step[] = [file(1, 'db1.prepare.sql'), file(2, 'db2.prepare.sql')];
export const increment12 = (n = ''): Step[] => [file(1, `db1.increment${n}.sql`), file(2, `db2.increment${n}.sql`)];
/** run.sh's common core: start, compare, then per increment step: both upstreams' file, wait, compare again. */
export const startThenIncrements = (...steps: string[]): Step[] => [
  start(),
  caughtUp,
  diff('diff_config.toml'),
  ...steps.flatMap((n) => [...increment12(n), caughtUp, diff('diff_config.toml')]),
];
