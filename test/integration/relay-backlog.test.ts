/**
 * Issue #4, acceptance 3: a task paused while 1M row changes accumulate in the relay catches up, row for row. The
 * agent's RSS stays bounded while the relay ingests the backlog and while the task replays it (peak printed), and
 * the relay's upstream reader paused its binlog connection instead of buffering (relay status `upstreamPauses`).
 * The relay queue is set small (TSDM_RELAY_QUEUE_ROWS) so the pausing shows on a fast disk too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource, waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';

const ROWS = Number(process.env.RELAY_BACKLOG_ROWS ?? 1_000_000);
const CHUNK = 10_000;

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false, agentEnv: { TSDM_RELAY_QUEUE_ROWS: '5000' } });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE big');
  await up.query(
    'CREATE TABLE big.sbtest (id BIGINT NOT NULL PRIMARY KEY, k INT NOT NULL, c CHAR(120) NOT NULL, pad CHAR(60) NOT NULL, KEY (k))',
  );
  await up.query("INSERT INTO big.sbtest SELECT seq, seq % 1000, MD5(seq), 'pad' FROM mysql.seq_1_to_1000");
  await createRelaySource(c, 'source1', up);
  await waitRelayRunning(c, 'source1');
});
after(async () => {
  await c?.stop();
});

/** Resident memory of the agent in MB: all (VmRSS), the process's own (RssAnon: heap, buffers) and mapped files
 * (RssFile: mostly the relay's LMDB pages, page cache the kernel reclaims at will). */
function rssMb(pid: number | undefined): { all: number; anon: number; file: number } {
  const out = { all: 0, anon: 0, file: 0 };
  if (!pid) return out;
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? 0) / 1024);
    return { all: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return out;
  }
}

test(`a task paused while ${ROWS} row changes accumulate catches up with bounded memory`, {
  timeout: 900_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await startTask(
    c,
    taskYaml(
      'slow',
      down,
      'mysql-instances:\n  - source-id: source1\n    block-allow-list: b\nblock-allow-list:\n  b:\n    do-dbs: ["big"]\n',
    ),
  );
  await waitSynced(c, 'slow');
  const idle = rssMb(c.agent.pid());
  assert.equal((await c.ctl(['pause-task', 'slow'])).code, 0);
  await waitStage(c, 'slow', (v) => v.sources.every((s) => s.stage === 'Paused'), 'task paused');

  const peak = { ingest: { all: 0, anon: 0, file: 0 }, catchup: { all: 0, anon: 0, file: 0 } };
  let phase: 'ingest' | 'catchup' = 'ingest';
  const sampler = setInterval(() => {
    const r = rssMb(c.agent.pid());
    const p = peak[phase];
    p.all = Math.max(p.all, r.all);
    p.anon = Math.max(p.anon, r.anon);
    p.file = Math.max(p.file, r.file);
  }, 200);
  try {
    const t0 = Date.now();
    // ROWS row changes: inserts in 10k-row transactions, then updates of the same rows (half the total each).
    const half = ROWS / 2;
    for (let i = 0; i < half; i += CHUNK) {
      await up.query(
        `INSERT INTO big.sbtest SELECT 1000000 + seq, seq % 1000, MD5(seq), REPEAT('p', 60) FROM mysql.seq_${i + 1}_to_${i + CHUNK}`,
      );
    }
    for (let i = 0; i < half; i += CHUNK) {
      await up.query(
        `UPDATE big.sbtest SET k = k + 1, pad = REPEAT('u', 60) WHERE id > ${1000000 + i} AND id <= ${1000000 + i + CHUNK}`,
      );
    }
    const written = Date.now() - t0;
    const rs = await waitRelayAtHead(c, 'source1', up, 600_000);
    const ingest = Date.now() - t0;
    console.log(
      `upstream wrote ${ROWS} row changes in ${written} ms; relay at head after ${ingest} ms; relay ${rs.size.records} records, file ${Math.round(rs.size.fileBytes / 1048576)} MB; upstream reader paused ${rs.upstreamPauses} times`,
    );
    assert.ok(rs.upstreamPauses > 0, 'the relay paused its upstream binlog connection instead of buffering');

    phase = 'catchup';
    const t1 = Date.now();
    assert.equal((await c.ctl(['resume-task', 'slow'])).code, 0);
    await waitSynced(c, 'slow', 600_000);
    console.log(`task caught up ${ROWS} row changes in ${Date.now() - t1} ms`);
  } finally {
    clearInterval(sampler);
  }
  const f = (p: { all: number; anon: number; file: number }) => `${p.all} MB (anon ${p.anon}, file-mapped ${p.file})`;
  console.log(
    `agent RSS: idle ${f(idle)}; peak while the relay ingested ${f(peak.ingest)}; peak while the task caught up ${f(peak.catchup)}`,
  );
  // Buffering the backlog would take well over a GB of JS objects; bounded means a few hundred MB of the agent's own
  // memory (mapped relay pages are page cache, reclaimable, and not counted against the bound).
  assert.ok(
    peak.ingest.anon < 500 && peak.catchup.anon < 500,
    `agent memory bounded (${f(peak.ingest)}, ${f(peak.catchup)})`,
  );
  await assertSame(up, down, [{ up: ['big', 'sbtest'] }]);
});
