/**
 * Acceptance 5 (issue #2): malformed or wrong configuration gets a coded error that names the problem (file, line,
 * key, or the failing check) and changes nothing: no source or task is recorded, nothing is written downstream.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bucket } from '../../src/coord/index.ts';
import { startMariaDB, type MariaDBInstance } from '../harness/index.ts';
import { sourceYaml, writeTemp } from '../harness/tsdm.ts';
import { startCluster, taskYaml, type Cluster } from './helpers.ts';

let c: Cluster;
let stmtUp: MariaDBInstance;
before(async () => {
  [c, stmtUp] = await Promise.all([
    startCluster(),
    startMariaDB({ name: 'stmt', upstream: true, serverId: 150, binlogFormat: 'STATEMENT' }),
  ]);
  const r = await c.ctl(['operate-source', 'create', writeTemp('stmt.yaml', sourceYaml('stmt-source', stmtUp))]);
  assert.equal(r.code, 0, r.stderr);
});
after(async () => {
  await stmtUp?.stop();
  await c?.stop();
});

interface Case {
  name: string;
  cmd: 'operate-source' | 'start-task';
  file: string;
  text: string;
  code: string;
  exit: number;
  mentions: RegExp[];
}

const cases = (): Case[] => {
  const up = c.sb.upstreams[0]!;
  const down = c.sb.downstream;
  const good = (body: string) => taskYaml('bad', down, body);
  return [
    {
      name: 'bad YAML',
      cmd: 'operate-source',
      file: 's-yaml.yaml',
      text: 'source-id: s\nfrom:\n  host: [unclosed\n',
      code: 'TSDM-10002',
      exit: 2,
      mentions: [/s-yaml\.yaml:\d+/],
    },
    {
      name: 'unknown key with a suggestion',
      cmd: 'operate-source',
      file: 's-key.yaml',
      text: sourceYaml('s-key', up) + 'enable-gtdi: true\n',
      code: 'TSDM-10004',
      exit: 2,
      mentions: [/s-key\.yaml:10/, /enable-gtdi/, /enable-gtid/],
    },
    {
      name: 'wrong type',
      cmd: 'operate-source',
      file: 's-type.yaml',
      text: sourceYaml('s-type', up).replace(/port: \d+/, 'port: "not-a-port"'),
      code: 'TSDM-10003',
      exit: 2,
      mentions: [/s-type\.yaml:\d+/, /from\.port/],
    },
    {
      name: 'missing source-id',
      cmd: 'operate-source',
      file: 's-noid.yaml',
      text: sourceYaml('x', up).replace('source-id: x\n', ''),
      code: 'TSDM-10003',
      exit: 2,
      mentions: [/source-id/],
    },
    {
      name: 'unreachable upstream',
      cmd: 'operate-source',
      file: 's-down.yaml',
      text: sourceYaml('s-down', up).replace(/port: \d+/, 'port: 1'),
      code: 'TSDM-20001',
      exit: 1,
      mentions: [/127\.0\.0\.1:1/],
    },
    {
      name: 'wrong password',
      cmd: 'operate-source',
      file: 's-pw.yaml',
      text: sourceYaml('s-pw', up).replace(up.password, 'wrong-password'),
      code: 'TSDM-20002',
      exit: 1,
      mentions: [/denied/i],
    },
    {
      // Issue #16: used to fail as "no agent answered" (exit 3) once NATS refused the 50 MB request.
      name: 'a 50 MB file',
      cmd: 'operate-source',
      file: 's-big.yaml',
      text: sourceYaml('s-big', up) + `# ${'x'.repeat(50 * 1024 * 1024)}\n`,
      code: 'TSDM-10030',
      exit: 2,
      mentions: [/s-big\.yaml/, /512 KiB/],
    },
    {
      // Issue #16: nine levels of nine aliases used to cost 20 s of CPU (and more levels, any amount).
      name: 'a YAML alias bomb',
      cmd: 'start-task',
      file: 't-bomb.yaml',
      text: good(
        `mysql-instances:\n  - source-id: source1\nx: &a [1,1,1,1,1,1,1,1,1]\n${[...'abcdefgh']
          .map((p, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(9).fill(`*${p}`).join(',')}]`)
          .join('\n')}\n`,
      ),
      code: 'TSDM-10031',
      exit: 2,
      mentions: [/t-bomb\.yaml:\d+/, /aliases/],
    },
    {
      name: 'unknown rule name',
      cmd: 'start-task',
      file: 't-rule.yaml',
      text: good('mysql-instances:\n  - source-id: source1\n    route-rules: ["no-such-route"]\n'),
      code: 'TSDM-10006',
      exit: 2,
      mentions: [/t-rule\.yaml:\d+/, /no-such-route/],
    },
    {
      name: 'missing source',
      cmd: 'start-task',
      file: 't-src.yaml',
      text: good('mysql-instances:\n  - source-id: not-created\n'),
      code: 'TSDM-10009',
      exit: 1,
      mentions: [/not-created/],
    },
    {
      name: 'unknown task key',
      cmd: 'start-task',
      file: 't-key.yaml',
      text: good('mysql-instances:\n  - source-id: source1\nsyncer:\n  worker-count: 2\n'),
      code: 'TSDM-10004',
      exit: 2,
      mentions: [/t-key\.yaml:\d+/, /syncer/],
    },
    {
      name: 'bad task-mode',
      cmd: 'start-task',
      file: 't-mode.yaml',
      text: taskYaml('bad', down, 'mysql-instances:\n  - source-id: source1\n', 'everything'),
      code: 'TSDM-10003',
      exit: 2,
      mentions: [/task-mode/, /t-mode\.yaml:2/],
    },
    {
      name: 'unsupported DM key',
      cmd: 'start-task',
      file: 't-unsup.yaml',
      text: good('mysql-instances:\n  - source-id: source1\ncolumn-mappings:\n  cm:\n    schema-pattern: x\n'),
      code: 'TSDM-10005',
      exit: 2,
      mentions: [/column-mappings/],
    },
    {
      name: 'missing target-database',
      cmd: 'start-task',
      file: 't-notarget.yaml',
      text: 'name: bad\ntask-mode: all\nmysql-instances:\n  - source-id: source1\n',
      code: 'TSDM-10003',
      exit: 2,
      mentions: [/target-database/],
    },
    {
      name: 'binlog_format=STATEMENT upstream',
      cmd: 'start-task',
      file: 't-stmt.yaml',
      text: good('mysql-instances:\n  - source-id: stmt-source\n'),
      code: 'TSDM-20003',
      exit: 1,
      mentions: [/STATEMENT/],
    },
    {
      name: 'wrong downstream password',
      cmd: 'start-task',
      file: 't-downpw.yaml',
      text: good('mysql-instances:\n  - source-id: source1\n').replace(
        `password: "${down.password}"`,
        'password: "nope"',
      ),
      code: 'TSDM-30002',
      exit: 1,
      mentions: [/denied/i],
    },
  ];
};

test('every malformed or wrong config gets a coded error naming the problem, and changes nothing', {
  timeout: 360_000,
}, async () => {
  const sourcesBefore = (await c.coord.list(Bucket.sources)).map((e) => e.key).sort();
  const dbsBefore = (await c.sb.downstream.query('SHOW DATABASES'))
    .map((r: Record<string, string>) => r.Database)
    .sort();
  const list = cases();
  assert.ok(list.length >= 10);
  for (const k of list) {
    const path = writeTemp(k.file, k.text);
    const args = k.cmd === 'operate-source' ? ['operate-source', 'create', path] : ['start-task', path];
    const json = await c.ctl([...args, '--json']);
    assert.equal(json.code, k.exit, `${k.name}: exit code (stdout ${json.stdout} stderr ${json.stderr})`);
    assert.equal(json.json?.result, false, `${k.name}: result false`);
    assert.equal(json.json?.error?.code, k.code, `${k.name}: error code in ${json.stdout}`);
    const text = await c.ctl(args);
    assert.equal(text.code, k.exit);
    assert.match(text.stderr, new RegExp(`\\[${k.code}\\]`), `${k.name}: code printed`);
    assert.match(text.stderr, /suggestion: /, `${k.name}: a suggestion is printed`);
    for (const m of k.mentions) assert.match(text.stderr, m, `${k.name}: message names the problem: ${text.stderr}`);
    assert.ok(
      !text.stderr.includes(c.sb.upstreams[0]!.password) && !text.stdout.includes(c.sb.upstreams[0]!.password),
      `${k.name}: no password in the output`,
    );
  }
  assert.deepEqual(
    (await c.coord.list(Bucket.sources)).map((e) => e.key).sort(),
    sourcesBefore,
    'no source was recorded',
  );
  assert.equal((await c.coord.list(Bucket.tasks)).length, 0, 'no task was recorded');
  assert.deepEqual(
    (await c.sb.downstream.query('SHOW DATABASES')).map((r: Record<string, string>) => r.Database).sort(),
    dbsBefore,
    'nothing was written downstream',
  );
  const missing = await c.ctl(['start-task', '/nonexistent/task.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /TSDM-10001/);
});

test('the built-in secret key is warned about (agent log, operate-source), and config export writes owner-only files', {
  timeout: 180_000,
}, async () => {
  // The agent runs without --secret-key-path (startCluster): one WARN line at start says what to do.
  const warn = c.agent
    .log()
    .split('\n')
    .find((l) => l.includes('"level":"warn"') && l.includes('no secret key file'));
  assert.ok(warn, `agent start warns about the built-in key:\n${c.agent.log().slice(0, 3000)}`);
  assert.match(warn, /openssl rand -hex 32/);
  assert.match(warn, /--secret-key-path/);
  assert.match(warn, /TSDM_SECRET_KEY_PATH/);

  // operate-source without a key: a WARNING on stderr; with --json, `warnings` in the (still parseable) document.
  const up = stmtUp;
  const text = await c.ctl(['operate-source', 'create', writeTemp('w1.yaml', sourceYaml('warn-text', up))]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stderr, /^WARNING: no secret key file .*--secret-key-path/m);
  const json = await c.ctl(['operate-source', 'create', writeTemp('w2.yaml', sourceYaml('warn-json', up)), '--json']);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(json.json?.result, true, json.stdout);
  assert.ok(
    (json.json?.warnings as string[]).some((w) => /built-in key/.test(w) && /--secret-key-path/.test(w)),
    json.stdout,
  );
  assert.doesNotMatch(json.stderr, /WARNING/);
  // With a key file: no warning (encrypt: the agent here has no key file, so a source encrypted with one would fail).
  const keyFile = writeTemp('secret.key', `${'5a'.repeat(32)}\n`);
  const enc = await c.ctl(['encrypt', 'pw', '--secret-key-path', keyFile]);
  assert.equal(enc.code, 0);
  assert.equal(enc.stderr, '', 'no warning with a key file');

  // config export: 0700 directories and 0600 files whatever the umask, and an existing 0644 file is narrowed.
  const dir = join(dirname(writeTemp('x', '')), 'export');
  mkdirSync(join(dir, 'sources'), { recursive: true, mode: 0o755 });
  const old = join(dir, 'sources', 'warn-text.yaml');
  writeFileSync(old, 'stale\n', { mode: 0o644 });
  const umask = process.umask(0); // dmctl inherits it
  let exp;
  try {
    exp = await c.ctl(['config', 'export', '-d', dir]);
  } finally {
    process.umask(umask);
  }
  assert.equal(exp.code, 0, exp.stderr);
  assert.match(exp.stderr, /WARNING: no secret key file/);
  const files = readdirSync(join(dir, 'sources')).map((f) => join(dir, 'sources', f));
  assert.ok(files.includes(old), `${files.join(' ')}`);
  for (const f of [...files, join(dir, 'cluster.json')])
    assert.equal((statSync(f).mode & 0o777).toString(8), '600', `${f} is owner-only`);
  for (const d of [join(dir, 'sources'), join(dir, 'tasks')])
    assert.equal((statSync(d).mode & 0o777).toString(8), '700', `${d} is owner-only`);
  assert.doesNotMatch(readFileSync(old, 'utf8'), new RegExp(up.password), 'the password is stored encrypted');

  for (const id of ['warn-text', 'warn-json']) assert.equal((await c.ctl(['operate-source', 'stop', id])).code, 0);
});
