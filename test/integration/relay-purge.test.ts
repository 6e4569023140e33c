/**
 * Issue #4, acceptance 4: purge keeps what the slowest task needs and frees the rest; `dmctl purge-relay` refuses
 * to remove data a task still needs (coded error, nothing removed). The source's purge settings make the automatic
 * purge run every second and want everything gone (remain-space larger than any disk), so only the tasks'
 * needs hold data back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { assertSame, startCluster, startTask, taskYaml, waitStage, waitSynced, type Cluster } from './helpers.ts';
import { createRelaySource, relayStatus, waitRelayAtHead, waitRelayRunning } from './relay-helpers.ts';

let c: Cluster;
before(async () => {
  c = await startCluster({ sources: false });
  const up = c.sb.upstreams[0]!;
  await up.query('CREATE DATABASE p');
  await up.query('CREATE TABLE p.t (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(200) NOT NULL)');
  await up.query("INSERT INTO p.t SELECT seq, REPEAT('x', 100) FROM mysql.seq_1_to_1000");
  await createRelaySource(c, 'source1', up, 'purge:\n  interval: 1\n  expires: 0\n  remain-space: 1000000\n');
  await waitRelayRunning(c, 'source1');
});
after(async () => {
  await c?.stop();
});

const body = (schema: string) =>
  `mysql-instances:\n  - source-id: source1\n    block-allow-list: b\n    route-rules: [r]\nblock-allow-list:\n  b:\n    do-dbs: ["p"]\nroutes:\n  r:\n    schema-pattern: p\n    target-schema: ${schema}\n`;

async function writeFiles(files: number, from: number): Promise<string> {
  const up = c.sb.upstreams[0]!;
  for (let f = 0; f < files; f++) {
    for (let i = 0; i < 5; i++) {
      const base = from + f * 10_000 + i * 1000;
      await up.query(`INSERT INTO p.t SELECT ${base} + seq, REPEAT('y', 150) FROM mysql.seq_1_to_1000`);
      await up.query(`UPDATE p.t SET v = CONCAT(LEFT(v, 100), 'u') WHERE id BETWEEN ${base} AND ${base + 300}`);
    }
    await up.query('FLUSH BINARY LOGS');
  }
  const [m] = await up.query('SHOW MASTER STATUS');
  return String(m.File);
}

test('purge keeps what the slowest task needs, frees the rest; purge-relay refuses to remove needed data', {
  timeout: 300_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await startTask(c, taskYaml('fast', down, body('p_fast')));
  await startTask(c, taskYaml('slow', down, body('p_slow')));
  // History both tasks have applied: the purge may take it.
  await writeFiles(2, 500_000);
  await waitSynced(c, 'fast');
  await waitSynced(c, 'slow');
  assert.equal((await c.ctl(['pause-task', 'slow'])).code, 0);
  await waitStage(c, 'slow', (v) => v.sources.every((s) => s.stage === 'Paused'), 'slow paused');

  const head = await writeFiles(3, 1_000_000);
  await waitRelayAtHead(c, 'source1', up);
  await waitSynced(c, 'fast');

  // Automatic purge: records before the slow task's checkpoint go, the ones it needs stay.
  let st = await relayStatus(c, 'source1');
  await waitFor(
    async () => {
      st = await relayStatus(c, 'source1');
      return st?.neededBy === 'slow' && st.firstSeq > 1 && st.firstSeq === st.neededSeq;
    },
    30_000,
    `automatic purge up to what slow needs (last ${JSON.stringify({ first: st?.firstSeq, needed: st?.neededSeq, by: st?.neededBy, last: st?.lastSeq })})`,
  );
  console.log(
    `while slow is paused: relay #${st!.firstSeq}..#${st!.lastSeq}, slow needs #${st!.neededSeq}; ${st!.lastPurge?.records} records purged (${st!.lastPurge?.reason})`,
  );
  assert.ok(st!.lastSeq - st!.firstSeq > 20, 'the records the slow task needs are kept');

  // purge-relay up to the newest file would remove what slow needs: refused, nothing removed.
  const refused = await c.ctl(['purge-relay', '-s', 'source1', '--filename', head]);
  assert.equal(refused.code, 1, `purge-relay refused: ${refused.stdout}${refused.stderr}`);
  assert.match(refused.stdout + refused.stderr, /TSDM-40005/);
  assert.match(refused.stdout + refused.stderr, /slow/);
  assert.equal((await relayStatus(c, 'source1'))!.firstSeq, st!.firstSeq, 'nothing removed by the refused purge');

  // The slow task catches up from what was kept.
  assert.equal((await c.ctl(['resume-task', 'slow'])).code, 0);
  await waitSynced(c, 'slow');
  await assertSame(up, down, [
    { up: ['p', 't'], down: ['p_fast', 't'] },
    { up: ['p', 't'], down: ['p_slow', 't'] },
  ]);

  // Now nobody needs the old records: purge-relay to the newest file succeeds and the space becomes reusable.
  const ok = await c.ctl(['purge-relay', '-s', 'source1', '--filename', head, '--json']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  await waitFor(
    async () => {
      st = await relayStatus(c, 'source1');
      return st!.firstSeq >= st!.lastSeq - 2;
    },
    30_000,
    'relay purged up to the head',
  );
  console.log(
    `after slow caught up: relay #${st!.firstSeq}..#${st!.lastSeq}, file ${st!.size.fileBytes} B, used ${st!.size.usedBytes} B, reusable ${st!.size.reusableBytes} B`,
  );
  assert.ok(st!.size.reusableBytes > 0, 'purged pages are reported as reusable space');
});
