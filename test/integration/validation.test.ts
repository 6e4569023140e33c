/**
 * Issue #15, continuous validation end to end against real servers: a task with `validators` mode full and a 3 s
 * row-error-delay validates upstream writes with no error; a row that the downstream changes behind tsdm's back (a
 * downstream trigger rewrites what sync writes) becomes an error row within the delay, with its key and both values;
 * show-error / ignore-error / resolve-error / clear-error behave as DM documents; validation stop / start change the
 * status; start-task --remove-meta clears the old migration's error rows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../harness/index.ts';
import { startCluster, startTask, status, taskYaml, waitSynced, type Cluster } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: dmctl --json documents are indexed freely by the assertions
type J = any;

let c: Cluster;
before(async () => {
  c = await startCluster({ upstreams: 1 });
});
after(async () => {
  await c?.stop();
});

const BODY = `mysql-instances:
  - source-id: source1
    block-allow-list: bal
    validator-config-name: v
block-allow-list:
  bal:
    do-dbs: ["app"]
validators:
  v:
    mode: full
    worker-count: 2
    row-error-delay: 3s
    validate-interval: 300ms
    check-interval: 500ms
`;

/** `validation status --json`'s validator of source1. */
async function vstatusCtl(): Promise<J> {
  const r = await c.ctl(['validation', 'status', 'val', '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.json.validators[0];
}

/** The same figures from the status record in KV (the waits poll this: no dmctl process per poll). */
async function vstatus(): Promise<J> {
  const v = (await status(c, 'val')).sources[0]?.validation;
  if (!v) return undefined;
  const n = (x: { insert: number; update: number; delete: number }) =>
    `insert/update/delete: ${x.insert}/${x.update}/${x.delete}`;
  return {
    stage: v.stage,
    mode: v.mode,
    processedRowsStatus: n(v.processed),
    pendingRowsStatus: n(v.pending),
    errorRowsStatus: `new/ignored/resolved: ${v.errors.new}/${v.errors.ignored}/${v.errors.resolved}`,
  };
}

/** Downstream triggers that rewrite row `id` whenever it is written: sync writes an update as an UPDATE outside safe
 * mode, as a REPLACE in it. */
async function tamper(down: Cluster['sb']['downstream'], id: number): Promise<void> {
  for (const when of ['INSERT', 'UPDATE'])
    await down.query(
      `CREATE TRIGGER app.tamper_${when.toLowerCase()} BEFORE ${when} ON app.t FOR EACH ROW BEGIN IF NEW.id = ${id} THEN SET NEW.v = 'tampered'; END IF; END`,
    );
}

async function untamper(down: Cluster['sb']['downstream']): Promise<void> {
  await down.query('DROP TRIGGER app.tamper_insert; DROP TRIGGER app.tamper_update');
}

async function errors(filter = 'unprocessed'): Promise<J[]> {
  const r = await c.ctl(['validation', 'show-error', 'val', '--error', filter, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return r.json.error;
}

test('continuous validation: clean rows, a row changed behind tsdm, error verbs, stop and start', {
  timeout: 120_000,
}, async () => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  await up.query('CREATE DATABASE app');
  await up.query('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20), n DECIMAL(10,2), f FLOAT, d DATETIME(3))');
  await up.query(
    "INSERT INTO app.t SELECT seq, CONCAT('v', seq), seq * 1.25, seq / 3, '2024-01-01 00:00:00.500' FROM mysql.seq_1_to_50",
  );
  await startTask(c, taskYaml('val', down, BODY));
  await waitSynced(c, 'val');

  // Writes sync applies: every one validated, none an error.
  await up.query("INSERT INTO app.t SELECT seq, CONCAT('w', seq), seq * 0.5, seq / 7, NOW(3) FROM mysql.seq_51_to_70");
  await up.query("UPDATE app.t SET v = CONCAT(v, '!'), n = n + 0.01 WHERE id <= 10");
  await up.query('DELETE FROM app.t WHERE id BETWEEN 41 AND 45');
  await waitSynced(c, 'val');
  let last: J;
  await waitFor(
    async () => {
      last = await vstatus();
      return (
        last?.stage === 'Running' &&
        last.processedRowsStatus === 'insert/update/delete: 20/10/5' &&
        last.pendingRowsStatus === 'insert/update/delete: 0/0/0'
      );
    },
    20_000,
    () => `every applied row validated: ${JSON.stringify(last)}`,
  );
  assert.equal(last.errorRowsStatus, 'new/ignored/resolved: 0/0/0');
  assert.equal(last.mode, 'full');
  assert.deepEqual(await vstatusCtl(), {
    task: 'val',
    source: 'source1',
    result: null,
    ...last,
  });

  // Behind tsdm's back: downstream triggers rewrite row 7 whenever it is written.
  await tamper(down, 7);
  const t0 = Date.now();
  await up.query("UPDATE app.t SET v = 'seven' WHERE id = 7");
  await waitFor(
    async () => (await vstatus())?.errorRowsStatus === 'new/ignored/resolved: 1/0/0',
    15_000,
    'the tampered row becomes an error row',
  );
  const took = Date.now() - t0;
  const errs = await errors();
  assert.ok(took >= 2500, `not an error before row-error-delay (3s): ${took} ms`);
  assert.ok(took <= 12_000, `an error within row-error-delay plus margin: ${took} ms`);
  assert.equal(errs.length, 1, JSON.stringify(errs));
  const e = errs[0];
  assert.deepEqual(e.key, { id: '7' });
  assert.equal(e.errorType, 'Column data not matched');
  assert.equal(e.srcData.v, 'seven');
  assert.equal(e.dstData.v, 'tampered');
  assert.equal(e.status, 'NewErr');
  assert.equal(e.source, 'source1');
  assert.equal(e.dstTable, '`app`.`t`');
  const qs = await c.ctl(['query-status', 'val', '--json']);
  assert.equal(JSON.stringify(qs.json).includes('"validation"'), true, 'query-status --json has validation');
  const text = await c.ctl(['query-status', 'val']);
  assert.match(text.stdout, /validation Running \(mode full\).*errors new\/ignored\/resolved 1\/0\/0/);

  // The error verbs (DM: ignore marks ignored, resolve marks resolved, clear deletes).
  assert.equal((await c.ctl(['validation', 'ignore-error', 'val', String(e.id)])).code, 0);
  assert.equal((await errors()).length, 0, 'an ignored row is not unprocessed');
  assert.equal((await errors('ignored')).length, 1);
  assert.equal((await c.ctl(['validation', 'resolve-error', 'val', '--all'])).code, 0);
  assert.equal((await errors('resolved'))[0]?.id, e.id);
  await waitFor(async () => (await vstatus()).errorRowsStatus === 'new/ignored/resolved: 0/0/1', 10_000, 'resolved');
  assert.equal((await c.ctl(['validation', 'clear-error', 'val', String(e.id)])).code, 0);
  assert.equal((await errors('all')).length, 0, 'a cleared row is gone');
  const missing = await c.ctl(['validation', 'ignore-error', 'val', '99999']);
  assert.equal(missing.code, 1, 'an unknown error id fails');
  assert.equal((await c.ctl(['validation', 'ignore-error', 'val'])).code, 2, 'ERROR-ID or --all is needed');
  await untamper(down);

  // stop: nothing more is validated; start --mode fast: validated again, in fast mode.
  assert.equal((await c.ctl(['validation', 'stop', 'val'])).code, 0);
  await waitFor(async () => (await vstatus()).stage === 'Stopped', 10_000, 'validation stopped');
  await up.query("INSERT INTO app.t VALUES (100, 'x', 1, 1, NOW(3))");
  await waitSynced(c, 'val');
  assert.equal((await vstatus()).stage, 'Stopped');
  assert.equal((await c.ctl(['validation', 'start', '--mode', 'fast', 'val'])).code, 0);
  await waitFor(
    async () => {
      last = await vstatus();
      return last.stage === 'Running' && last.mode === 'fast';
    },
    10_000,
    () => `validation running in fast mode: ${JSON.stringify(last)}`,
  );
  await up.query("INSERT INTO app.t VALUES (101, 'y', 1, 1, NOW(3))");
  await waitFor(
    async () => {
      last = await vstatus();
      return last.processedRowsStatus === 'insert/update/delete: 1/0/0';
    },
    10_000,
    () => `the new row validated after start: ${JSON.stringify(last)}`,
  );
  assert.equal(last.errorRowsStatus, 'new/ignored/resolved: 0/0/0');

  // start-task --remove-meta starts the migration over: the error rows of the old one go with its checkpoints (DM's
  // start-task --remove-meta drops its validator tables). Full mode again first: fast mode compares no values.
  assert.equal((await c.ctl(['validation', 'stop', 'val'])).code, 0);
  await waitFor(async () => (await vstatus()).stage === 'Stopped', 10_000, 'validation stopped');
  assert.equal((await c.ctl(['validation', 'start', '--mode', 'full', 'val'])).code, 0);
  await waitFor(
    async () => {
      last = await vstatus();
      return last.stage === 'Running' && last.mode === 'full';
    },
    10_000,
    () => `validation running in full mode: ${JSON.stringify(last)}`,
  );
  await tamper(down, 8);
  await up.query("UPDATE app.t SET v = 'eight' WHERE id = 8");
  await waitFor(
    async () => (last = await vstatus())?.errorRowsStatus === 'new/ignored/resolved: 1/0/0',
    20_000,
    () => `a new error row for row 8: ${JSON.stringify(last)}`,
  );
  await untamper(down);
  assert.equal((await c.ctl(['stop-task', 'val'])).code, 0);
  await startTask(c, taskYaml('val', down, BODY), ['--remove-meta']);
  await waitSynced(c, 'val');
  assert.deepEqual(await errors('all'), [], 'no error row of the old migration after --remove-meta');
  await waitFor(
    async () => (await vstatus())?.errorRowsStatus === 'new/ignored/resolved: 0/0/0',
    15_000,
    'the status counts no error row',
  );
});
