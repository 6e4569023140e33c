/** Number formatting and the result lines every workload prints. */
import { compareTables, type MariaDBInstance } from '../../test/harness/index.ts';

export const rate = (rows: number, ms: number): number => rows / (ms / 1000);

/** 61.2k rows/s, 950 rows/s */
export function fmtRate(r: number): string {
  if (!Number.isFinite(r)) return '-';
  return r >= 10_000 ? `${(r / 1000).toFixed(1)}k` : r >= 1000 ? `${(r / 1000).toFixed(2)}k` : r.toFixed(0);
}

export const fmtMB = (bytes: number): string => `${Math.round(bytes / 1048576)} MB`;
export const fmtS = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
export const fmtN = (n: number): string => n.toLocaleString('en-US');

/** Progress notes go to stderr, so stdout holds only the result lines. */
export function note(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface Verdict {
  ok: boolean;
  diffs: string[];
}

/** Compares each table on `a` with the same table on `b` (test/harness compareTables); collects the differences. */
export async function sameTables(
  a: MariaDBInstance,
  b: MariaDBInstance,
  tables: [string, string][],
  label: string,
): Promise<Verdict> {
  const diffs: string[] = [];
  for (const [schema, table] of tables) {
    const r = await compareTables(a, { schema, table }, b, { schema, table });
    if (!r.equal)
      diffs.push(
        `${label} ${schema}.${table}: up ${r.upRows} rows, copy ${r.downRows}: ${r.diffs.slice(0, 3).join('; ')}`,
      );
  }
  return { ok: diffs.length === 0, diffs };
}

/** Merges verdicts; prints each difference to stderr. */
export function verdict(...vs: Verdict[]): string {
  const diffs = vs.flatMap((v) => v.diffs);
  for (const d of diffs) note(`DIFF ${d}`);
  return diffs.length === 0 ? 'equal' : `FAIL (${diffs.length} table(s) differ, see above)`;
}

/** Wall-clock ms of `fn`. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}
