/** What the large-transaction tests (big-txn.test.ts, big-txn-relay.test.ts) share: schema, task and the RSS bound. */
import { readFileSync } from 'node:fs';

/** The upstream schema both tests write their large transactions into. */
export async function createBigSchema(up: { query(sql: string): Promise<unknown> }): Promise<void> {
  await up.query('CREATE DATABASE big');
  await up.query(
    'CREATE TABLE big.t (id INT PRIMARY KEY, a INT NOT NULL, b VARCHAR(64) NOT NULL, c DATETIME(3) NULL, KEY (a))',
  );
  await up.query('CREATE TABLE big.small (id INT PRIMARY KEY, v INT)');
}

/** The task body: schema `big` from source1, with `syncers.big.large-txn-rows` = chunkRows. */
export function bigTaskBody(chunkRows: number): string {
  return `mysql-instances:
  - source-id: source1
    block-allow-list: b
    syncer-config-name: big
block-allow-list:
  b:
    do-dbs: ["big"]
syncers:
  big:
    large-txn-rows: ${chunkRows}
`;
}

/**
 * The bound on the agent's peak RSS (VmHWM), set by the part size, not by the transaction's: 400 MB plus 10 KB per row
 * of a part (see big-txn.test.ts for what the 400 MB holds and the measured figures).
 */
export function rssBoundMb(partRows: number): number {
  return 400 + Math.round(partRows / 100);
}

/** A process's peak resident set (VmHWM) in MB. */
export function peakRssMb(pid: number | undefined): number {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/^VmHWM:\s+(\d+) kB/m.exec(s)?.[1] ?? 0) / 1024);
}
