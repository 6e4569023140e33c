import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardddlPlan } from '../conformance/shardddl-plan.ts';

const RUN_SH = `#!/bin/bash
function DM_001_CASE() {
	run_sql_source1 "alter table \${shardddl1}.\${tb1} add column c int;"
	if [[ "$1" = "pessimistic" ]]; then
		check_sync_diff $WORK_DIR $cur/conf/diff_config.toml 3 "fail"
	else
		run_sql_tidb_with_retry "select count(1) from \${shardddl}.\${tb};" "count(1): 0"
	fi
	check_log_contain_with_retry "anything" $WORK_DIR/worker1/log/dm-worker.log
	run_dm_ctl_with_retry $WORK_DIR "127.0.0.1:$MASTER_PORT" \\
		"query-status test" \\
		"\\"result\\": true" 2 \\
		"\\"synced\\": true" 1
}

function DM_001() {
	run_case 001 "double-source-pessimistic" "init_table 111 212" "clean_table" "pessimistic"
	run_case 001 "double-source-optimistic" "run_sql_source1 \\"create table \${shardddl1}.\${tb1} (a int primary key);\\"" "clean_table" "optimistic"
}

function DM_002_CASE() {
	restart_master
}

function DM_002() {
	run_case 002 "single-source-pessimistic" "init_table 111" "clean_table" ""
}
`;

test("shardddl plans: run.sh's run_case lines become scenarios, the mode picks the if branch, other lines skip a case", () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'tsdm-shardddl-')), 'shardddl9');
  mkdirSync(dir);
  writeFileSync(join(dir, 'run.sh'), RUN_SH);
  const plan = shardddlPlan('shardddl9', dir)!;
  assert.deepEqual(
    plan.scenarios.map((s) => [s.task, s.label, s.skip ?? 'run']),
    [
      ['double-source-pessimistic.yaml', 'DM_001 pessimistic', 'run'],
      ['double-source-optimistic.yaml', 'DM_001 optimistic', 'run'],
      ['single-source-pessimistic.yaml', 'DM_002', 'run.sh line not reproduced: restart_master'],
    ],
  );
  const [pess, opt] = plan.scenarios;
  const kinds = (s: typeof pess) => s!.steps.map((x) => (x.kind === 'sql' ? `sql@${x.on}:${x.sql.join(';')}` : x.kind));
  assert.deepEqual(kinds(pess).slice(1), [
    'sql@1:create table shardddl1.tb1 (id int primary key)',
    'sql@2:create table shardddl1.tb2 (id int primary key)',
    'sources',
    'start',
    'syncUnit',
    'sql@1:alter table shardddl1.tb1 add column c int;',
    'diff',
    'caughtUp',
  ]);
  assert.equal(pess!.steps.find((x) => x.kind === 'diff' && x.mustFail) !== undefined, true);
  assert.deepEqual(kinds(opt).slice(1, 2), ['sql@1:create table shardddl1.tb1 (a int primary key);']);
  assert.ok(opt!.steps.some((x) => x.kind === 'expect' && x.equals === '0'));
  assert.deepEqual(opt!.omitted, ["DM's log greps"]);
  assert.equal(shardddlPlan('other', dir), undefined);
});
