/**
 * The conformance runner's default plan (test/conformance/default-plan.ts) and the pieces it relies on: DM's data
 * file names and order, source alternatives, diff configs matched to tasks, run.sh's placeholder values, and the
 * hand plans' keying by folder content. Case folders here are written inline in DM's layout (no DM file is copied).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseFingerprint, runShPlaceholders, upstreamOfSource } from '../conformance/case-files.ts';
import type { Scenario, Step } from '../conformance/plan.ts';

const tomlMissing = await import('smol-toml').then(
  () => false,
  () => 'the smol-toml package is not installed (npm install)',
);
const dp = tomlMissing ? undefined : await import('../conformance/default-plan.ts');

const source = (id: string, port: number, extra = ''): string =>
  `source-id: ${id}\n${extra}from:\n  host: 127.0.0.1\n  user: root\n  password: '123456'\n  port: ${port}\n`;
const task = (name: string, ids: string[], extra = ''): string =>
  `name: ${name}\ntask-mode: all\ntarget-database:\n  host: 127.0.0.1\n  port: 4000\n  user: root\n  password: ""\n` +
  `mysql-instances:\n${ids.map((id) => `  - source-id: "${id}"\n    block-allow-list: "instance"\n`).join('')}${extra}`;
const diff = (check: string[], ports: number[], extra = ''): string =>
  `[task]\nsource-instances = [${ports.map((_, i) => `"mysql${i + 1}"`).join(', ')}]\ntarget-instance = "tidb0"\n` +
  `target-check-tables = [${check.map((c) => JSON.stringify(c)).join(', ')}]\n${extra}` +
  ports.map((p, i) => `[data-sources.mysql${i + 1}]\nhost = "127.0.0.1"\nport = ${p}\n`).join('') +
  '[data-sources.tidb0]\nport = 4000\n';

/** A step as a short word, to compare flows at a glance. */
const brief = (s: Step): string =>
  s.kind === 'file' ? `${s.file}@${s.on}` : s.kind === 'diff' ? `diff:${s.file}${s.emptyOk ? '?' : ''}` : s.kind;
const flow = (sc: Scenario): string => sc.steps.map(brief).join(' ');

test("run.sh placeholders: per upstream, unsuffixed ones for the file's own upstream", () => {
  const ups = [
    { firstBinlog: 'binlog.000001', emptyGtid: '0-1-0' },
    { firstBinlog: 'binlog.000003', emptyGtid: '0-2-0' },
  ];
  const v = runShPlaceholders(ups, 2);
  assert.equal(v['binlog-name-placeholder-1'], 'binlog.000001');
  assert.equal(v['binlog-name-placeholder-2'], 'binlog.000003');
  assert.equal(v['binlog-pos-placeholder-2'], '4');
  assert.equal(v['binlog-gtid-placeholder-1'], '0-1-0');
  assert.equal(v['binlog-name-placeholder'], 'binlog.000003');
  assert.equal(v['binlog-gtid-placeholder'], '0-2-0');
  assert.equal(runShPlaceholders(ups)['binlog-gtid-placeholder'], '0-1-0');
  assert.equal(v['task-mode-placeholder'], 'all');
  assert.equal(v['database-placeholder'], 'ha_test');
  assert.equal(upstreamOfSource('source1_pos.yaml', source('r1', 3307)), 2);
  assert.equal(upstreamOfSource('source2.yaml', source('r1', 5000)), 2);
});

test('data files: DM names and order (increment0, increment, increment1 …), prepare2 is not the core', {
  skip: tomlMissing,
}, () => {
  const p = dp!.parseDataFile;
  assert.deepEqual(p('db1.prepare.sql'), { file: 'db1.prepare.sql', kind: 'prepare', n: 1, order: 0.5 });
  assert.deepEqual(p('db.increment2.sql'), { file: 'db.increment2.sql', kind: 'increment', order: 2 });
  assert.equal(p('db2.increment.1.sql')?.order, 1);
  assert.equal(p('source1.increment.sql')?.n, 1);
  assert.equal(p('db1.prepare2.sql'), undefined);
  assert.equal(p('db1.prepare.user.sql'), undefined);
  const orders = ['db1.increment2.sql', 'db1.increment.sql', 'db1.increment0.sql', 'db1.increment1.sql']
    .map((f) => p(f)!)
    .sort((a, b) => a.order - b.order)
    .map((d) => d.file);
  assert.deepEqual(orders, ['db1.increment0.sql', 'db1.increment.sql', 'db1.increment1.sql', 'db1.increment2.sql']);
});

test('default plan: two sources, prepare -> start -> compare -> increments in order -> compare', {
  skip: tomlMissing,
}, () => {
  const plan = dp!.buildDefaultPlan('c', {
    conf: {
      'source1.yaml': source('r1', 3306),
      'source2.yaml': source('r2', 3307),
      'dm-task.yaml': task('test', ['r1', 'r2'], 'block-allow-list:\n  instance:\n    do-dbs: ["c"]\n'),
      'diff_config.toml': diff(['c.*'], [3306, 3307]),
      'dm-master.toml': 'name = "m"\n',
    },
    data: [
      'db2.increment.sql',
      'db1.prepare.sql',
      'db2.prepare.sql',
      'db1.increment0.sql',
      'db1.increment.sql',
      'db1.dropdb.sql',
    ],
  });
  assert.equal(plan.scenarios.length, 1);
  const sc = plan.scenarios[0]!;
  assert.deepEqual(sc.sourceFiles, ['source1.yaml', 'source2.yaml']);
  assert.equal(
    flow(sc),
    'db1.prepare.sql@1 db2.prepare.sql@2 sources start caughtUp diff:diff_config.toml? ' +
      'db1.increment0.sql@1 caughtUp diff:diff_config.toml db1.increment.sql@1 db2.increment.sql@2 caughtUp diff:diff_config.toml',
  );
  assert.ok(sc.notes?.some((n) => n.includes('data/db1.dropdb.sql')));
});

test('default plan: tables only from increments compare after them; tidb.prepare.sql first', {
  skip: tomlMissing,
}, () => {
  const plan = dp!.buildDefaultPlan('c', {
    conf: {
      'source1.yaml': source('r1', 3306),
      'dm-task.yaml': task('test', ['r1']),
      'diff_config.toml': diff(['c.*'], [3306]),
    },
    data: ['db1.increment.sql', 'db1.increment2.sql', 'tidb.prepare.sql'],
  });
  assert.equal(
    flow(plan.scenarios[0]!),
    'tidb.prepare.sql@down sources start caughtUp db1.increment.sql@1 caughtUp diff:diff_config.toml ' +
      'db1.increment2.sql@1 caughtUp diff:diff_config.toml',
  );
});

test("default plan: sources with one source-id are alternatives; db.*.sql runs on the task's upstream", {
  skip: tomlMissing,
}, () => {
  const plan = dp!.buildDefaultPlan('c', {
    conf: {
      'source1_gtid.yaml': source('r1', 3306, 'enable-gtid: true\n'),
      'source1_pos.yaml': source('r1', 3306, 'enable-gtid: false\n'),
      'dm-task.yaml': task('test', ['r1']),
      'diff_config.toml': diff(['c.?*'], [3306, 3307]),
    },
    data: ['db.prepare.sql', 'db.increment1.sql', 'db.increment2.sql'],
  });
  assert.deepEqual(
    plan.scenarios.map((s) => [s.label, s.sourceFiles]),
    [
      ['default plan with source1_gtid.yaml', ['source1_gtid.yaml']],
      ['default plan with source1_pos.yaml', ['source1_pos.yaml']],
    ],
  );
  assert.equal(
    flow(plan.scenarios[1]!),
    'db.prepare.sql@1 sources start caughtUp diff:diff_config.toml? db.increment1.sql@1 caughtUp diff:diff_config.toml ' +
      'db.increment2.sql@1 caughtUp diff:diff_config.toml',
  );
});

test('default plan: each diff config with its task (ports, target schemas, names); a one-source task takes the only data set', {
  skip: tomlMissing,
}, () => {
  const routed = (name: string, id: string, target: string) =>
    task(name, [id]) +
    '    route-rules: ["r"]\n' +
    `routes:\n  r:\n    schema-pattern: "dup"\n    target-schema: "${target}"\nblock-allow-list:\n  instance:\n    do-dbs: ["dup"]\n`;
  const plan = dp!.buildDefaultPlan('c', {
    conf: {
      'source1.yaml': source('r1', 3306),
      'source2.yaml': source('r2', 3307),
      'dm-task.yaml': routed('test', 'r1', 'dup1'),
      'dm-task-relay.yaml': routed('test_relay', 'r2', 'dup_relay'),
      'diff_config.toml': diff(['dup1.t1'], [3306]),
      'diff_relay_config.toml': diff(['dup_relay.t1'], [3307]),
      'diff_config_other.toml': diff(['elsewhere.t1'], [3306]),
    },
    data: ['db1.prepare.sql', 'db1.increment.sql'],
  });
  const byTask = Object.fromEntries(plan.scenarios.map((s) => [s.task, s]));
  assert.equal(
    flow(byTask['dm-task.yaml']!),
    'db1.prepare.sql@1 sources start caughtUp diff:diff_config.toml? db1.increment.sql@1 caughtUp diff:diff_config.toml',
  );
  assert.equal(
    flow(byTask['dm-task-relay.yaml']!),
    'db1.prepare.sql@2 sources start caughtUp diff:diff_relay_config.toml? db1.increment.sql@2 caughtUp diff:diff_relay_config.toml',
  );
  assert.deepEqual(byTask['dm-task-relay.yaml']!.sourceFiles, ['source2.yaml']);

  // dm-addr configs name their task; a variant name picks among tasks that fit equally.
  const l = {
    conf: {
      'source1.yaml': source('r1', 3306),
      'dm-task.yaml': task('test', ['r1']),
      'regexpr-task.yaml': task('rx', ['r1']),
      'regexpr-task-lightning.yaml': task('rxl', ['r1']),
      'diff_config.toml': 'dm-addr = "http://127.0.0.1:8261"\ndm-task = "rx"\n[task]\ntarget-check-tables = ["a.*"]\n',
      'regexpr_diff_config.toml': diff(['d.t'], [3306]),
    },
    data: [],
  };
  const d = dp!.diffFiles(l);
  const tasks = dp!.taskFiles(l);
  const owners = (f: string) =>
    dp!
      .tasksOfDiff(d.find((x) => x.file === f)!, tasks, () => [1])
      .map((t) => t.file)
      .sort();
  assert.deepEqual(owners('diff_config.toml'), ['regexpr-task.yaml']);
  assert.deepEqual(owners('regexpr_diff_config.toml'), ['regexpr-task-lightning.yaml', 'regexpr-task.yaml']);
});

test('default plan: a block-allow-list wildcard writes only what it matches; task-mode placeholder is all', {
  skip: tomlMissing,
}, () => {
  const l = {
    conf: {
      'source1.yaml': source('r1', 3306),
      'a.yaml': task('a', ['r1'], 'block-allow-list:\n  instance:\n    do-dbs: ["~^test[0-9]+"]\n').replace(
        'task-mode: all',
        'task-mode: task-mode-placeholder',
      ),
      'b.yaml': task('b', ['r1'], 'block-allow-list:\n  instance:\n    do-dbs: ["all_mode"]\n'),
      'diff_config.toml': diff(['all_mode.t?*'], [3306]),
    },
    data: [],
  };
  const tasks = dp!.taskFiles(l);
  assert.equal(tasks.find((t) => t.file === 'a.yaml')!.mode, 'all');
  assert.deepEqual(
    dp!.tasksOfDiff(dp!.diffFiles(l)[0]!, tasks, () => [1]).map((t) => t.file),
    ['b.yaml'],
  );
});

test('hand plans are keyed by folder content: a same-named case elsewhere gets the default plan', {
  skip: tomlMissing,
}, async () => {
  const { planFor, PLANS } = await import('../conformance/plans.ts');
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-plan-'));
  try {
    const c = join(dir, 'sharding');
    mkdirSync(join(c, 'conf'), { recursive: true });
    mkdirSync(join(c, 'data'));
    writeFileSync(join(c, 'conf', 'source1.yaml'), source('r1', 3306));
    writeFileSync(join(c, 'conf', 'dm-task.yaml'), task('test', ['r1']));
    writeFileSync(join(c, 'data', 'db1.prepare.sql'), 'create database x;\n');
    const fp = caseFingerprint(c);
    assert.match(fp, /^[0-9a-f]{16}$/);
    const chosen = planFor('sharding', c);
    assert.notEqual(chosen.plan, PLANS['sharding']);
    assert.equal(chosen.plan.scenarios[0]!.label, 'default plan');
    assert.match(chosen.note, /^default plan: plans\.ts has a plan for a case named sharding, written for other files/);
    writeFileSync(join(c, 'data', 'db1.prepare.sql'), 'create database y;\n');
    assert.notEqual(caseFingerprint(c), fp);
    assert.match(planFor('mine', c).note, /^default plan \(no hand-written plan/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
