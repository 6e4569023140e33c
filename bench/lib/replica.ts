/**
 * The native baseline for replication: a MariaDB replica (the env's `base` server) of the upstream, started with
 * GTID from a given position (`MASTER_USE_GTID=slave_pos`), single-threaded SQL thread (the server's default).
 */
import type { MariaDBInstance } from '../../test/harness/index.ts';

export async function startReplica(replica: MariaDBInstance, up: MariaDBInstance, gtid: string): Promise<void> {
  if (!gtid) throw new Error('upstream has no GTID position yet (nothing binlogged?)');
  await replica.query('STOP SLAVE');
  await replica.query('RESET SLAVE ALL');
  await replica.query(`SET GLOBAL gtid_slave_pos = '${gtid}'`);
  await replica.query(
    `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${up.port}, MASTER_USER = 'root', MASTER_PASSWORD = '${up.password}', MASTER_USE_GTID = slave_pos`,
  );
  await replica.query('START SLAVE');
}

export async function stopReplica(replica: MariaDBInstance): Promise<void> {
  await replica.query('STOP SLAVE');
}

/** Throws with the replica's error when its IO or SQL thread stopped on one. */
export async function assertReplicaHealthy(replica: MariaDBInstance): Promise<void> {
  const [s] = await replica.query('SHOW SLAVE STATUS');
  if (!s) throw new Error('replica not configured');
  if (s.Last_SQL_Error || s.Last_IO_Error)
    throw new Error(`native replica stopped: ${s.Last_SQL_Error || ''} ${s.Last_IO_Error || ''}`.trim());
}
