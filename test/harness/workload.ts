/**
 * A steady upstream writer for end-to-end tests and the demo: random INSERT / UPDATE / DELETE on given tables,
 * in small transactions, until stopped. Deterministic per seed. Bounded: it stops by itself after `maxMs`.
 */
import type { MariaDBInstance } from './mariadb.ts';

export interface WorkloadTable {
  schema: string;
  table: string;
  idCol: string;
  insert: (id: number) => string;
  update: string;
}

export interface Workload {
  stop(): Promise<{ txns: number; errors: number }>;
}

export function startWorkload(
  db: MariaDBInstance,
  tables: WorkloadTable[],
  opts: { seed?: number; maxMs?: number; pauseMs?: number; idBase?: number } = {},
): Workload {
  let seed = opts.seed ?? 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  let running = true;
  let txns = 0;
  let errors = 0;
  let nextId = opts.idBase ?? 10_000_000;
  const t0 = Date.now();
  const loop = (async () => {
    const conn = await db.connect();
    try {
      while (running && Date.now() - t0 < (opts.maxMs ?? 120_000)) {
        const t = tables[Math.floor(rnd() * tables.length)]!;
        const q = `\`${t.schema}\`.\`${t.table}\``;
        const r = rnd();
        try {
          await conn.query('BEGIN');
          const n = 1 + Math.floor(rnd() * 5);
          for (let i = 0; i < n; i++) {
            if (r < 0.5) await conn.query(`INSERT INTO ${q} ${t.insert(nextId++)}`);
            else if (r < 0.8)
              await conn.query(
                `UPDATE ${q} SET ${t.update} WHERE ${t.idCol} = (SELECT ${t.idCol} FROM (SELECT ${t.idCol} FROM ${q} ORDER BY ${t.idCol} LIMIT 1 OFFSET ${Math.floor(rnd() * 1000)}) x)`,
              );
            else
              await conn.query(
                `DELETE FROM ${q} WHERE ${t.idCol} = (SELECT ${t.idCol} FROM (SELECT ${t.idCol} FROM ${q} ORDER BY ${t.idCol} LIMIT 1 OFFSET ${Math.floor(rnd() * 1000)}) x)`,
              );
          }
          await conn.query('COMMIT');
          txns++;
        } catch {
          errors++;
          await conn.query('ROLLBACK').catch(() => undefined);
        }
        if (opts.pauseMs) await new Promise((res) => setTimeout(res, opts.pauseMs));
      }
    } finally {
      await conn.end().catch(() => undefined);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { txns, errors };
    },
  };
}
