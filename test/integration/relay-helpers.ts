/** Shared steps of the relay tests: a source with enable-relay, its status, the agent's relay store. */
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { Bucket, Keys, type RelayStatus } from '../../src/coord/index.ts';
import { waitFor, type MariaDBInstance } from '../harness/index.ts';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import type { Cluster } from './helpers.ts';

export async function createRelaySource(c: Cluster, id: string, up: MariaDBInstance, extra = ''): Promise<void> {
  const yaml = sourceYaml(id, up, extra).replace('enable-relay: false', 'enable-relay: true');
  const r = await c.ctl(['operate-source', 'create', writeTemp(`${id}.yaml`, yaml)]);
  assert.equal(r.code, 0, r.stderr);
}

export async function relayStatus(c: Cluster, source: string): Promise<RelayStatus | undefined> {
  return (await c.coord.get<RelayStatus>(Bucket.status, Keys.relayStatus(source)))?.value;
}

/** Waits for the relay to run and to have a starting point (status published by the agent). */
export async function waitRelayRunning(c: Cluster, source: string, timeoutMs = 60_000): Promise<RelayStatus> {
  let s: RelayStatus | undefined;
  await waitFor(
    async () => {
      s = await relayStatus(c, source);
      return s?.stage === 'Running' && s.relayPos !== undefined && !s.error;
    },
    timeoutMs,
    `relay of ${source} running (last ${JSON.stringify(s)})`,
  );
  return s!;
}

/** Waits until the relay holds everything the upstream has now. */
export async function waitRelayAtHead(
  c: Cluster,
  source: string,
  up: MariaDBInstance,
  timeoutMs = 120_000,
): Promise<RelayStatus> {
  const [m] = await up.query('SHOW MASTER STATUS');
  const head = { name: String(m.File), pos: Number(m.Position) };
  let s: RelayStatus | undefined;
  await waitFor(
    async () => {
      s = await relayStatus(c, source);
      const p = s?.relayPos;
      return p !== undefined && (p.name > head.name || (p.name === head.name && p.pos >= head.pos));
    },
    timeoutMs,
    `relay of ${source} at ${head.name}:${head.pos} (last ${JSON.stringify(s?.relayPos)})`,
  );
  return s!;
}

/** The agent's relay store directory for a source (the harness puts the data dir next to the agent log). */
export function relayDir(c: Cluster, source: string): string {
  return `${dirname(c.agent.logFile)}/relay/${encodeURIComponent(source)}`;
}

/** Binlog dump connections the upstream serves now (one per binlog reader). */
export async function binlogDumps(up: MariaDBInstance): Promise<number> {
  const rows = await up.query(
    "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'",
  );
  return Number(rows[0].n);
}
