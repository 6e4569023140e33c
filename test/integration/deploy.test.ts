/**
 * The deployment as the README writes it (issue #17, acceptance 4): `npm pack` holds only what runs, the tarball
 * installed into a prefix gives working `dm-agent` and `dmctl`, `systemd-analyze verify` accepts the unit, and the
 * agent started the way agent/dm-agent.service starts it (its ExecStart, WorkingDirectory and EnvironmentFile
 * semantics, no agent.yaml) joins the cluster and stops cleanly on SIGTERM; with the shipped sample agent.yaml it
 * reads that file. The unit is checked with its paths moved into a temp root (the installed prefix for /opt/tsdm,
 * temp files for /etc and /var/lib), so nothing on this machine is touched.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats, type NatsInstance } from '../harness/nats.ts';
import { freePort } from '../harness/ports.ts';
import { parseEnvFile, parseUnit, splitExecStart, unitValue } from '../harness/systemd.ts';
import { waitFor } from '../harness/wait.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UNIT = readFileSync(join(ROOT, 'agent', 'dm-agent.service'), 'utf8');
/** systemd's default PATH for services; node's own folder is added when it is elsewhere (the unit needs node there). */
const SYSTEMD_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

let tmp = '';
let prefix = '';
let tarball = '';
let nats: NatsInstance;

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'tsdm-deploy-'));
  prefix = join(tmp, 'opt-tsdm');
  nats = await startNats({ name: 'deploy' });
});

after(async () => {
  await nats?.stop();
  if (tmp && process.env.TSDM_KEEP_TEST_DATA !== '1') rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

test('npm pack holds what runs and nothing else (compiled dist/, bins, deployment files, docs)', () => {
  const r = run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, '--json', '--loglevel=error'], {
    cwd: ROOT,
  });
  assert.equal(r.status, 0, r.err);
  // Scripts run by pack (prepare) may print before the JSON.
  const info = JSON.parse(r.out.slice(r.out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, info[0]!.filename);
  const files = info[0]!.files.map((f) => f.path);
  // Every file is under an entry of package.json `files` (or one npm always adds).
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  const entries = pkg.files.filter((f) => !f.startsWith('!'));
  for (const f of files)
    assert.ok(
      entries.some((e) => (e.endsWith('/') ? f.startsWith(e) : f === e)) ||
        ['package.json', 'README.md', 'LICENSE'].includes(f),
      `${f} is not something that runs`,
    );
  for (const bad of ['test/', 'bench/', '.ci/', 'scripts/', 'node_modules/', 'src/', 'tui/'])
    assert.ok(!files.some((f) => f.startsWith(bad)), `no ${bad} in the tarball`);
  // The compiled code, not the TypeScript sources (bin/dist.js runs dist/ when no source is beside it).
  assert.ok(!files.some((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts')), 'no TypeScript source');
  assert.ok(!files.includes('dist/.tsbuildinfo'), "no tsc's incremental state");
  assert.ok(!files.some((f) => /\.test\./.test(f)), 'no test files (promtool rule tests stay in the repository)');
  for (const need of [
    'bin/dm-agent.js',
    'bin/dmctl.js',
    'bin/dist.js',
    'dist/.build-stamp',
    'dist/agent/main.js',
    'dist/tui/main.js',
    'dist/bundle/main.js', // dmctl's bundle (scripts/bundle.mjs), what bin/dmctl.js runs
    'agent/dm-agent.service',
    'deploy/agent.yaml',
    'deploy/dm-agent.default',
  ])
    assert.ok(files.includes(need), `${need} is in the tarball`);
});

test('npm i -g --prefix DIR ./tsdm-*.tgz gives dm-agent and dmctl that run', () => {
  assert.ok(tarball, 'the pack test made the tarball');
  // --prefer-offline: the packages npm ci fetched are in npm's cache; the registry is asked only for what is not.
  const r = run('npm', ['i', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
    cwd: tmp,
  });
  assert.equal(r.status, 0, r.err);
  for (const [bin, usage] of [
    ['dmctl', /\$ dmctl \[global flags\] \[COMMAND/],
    ['dm-agent', /\$ dm-agent \[flags\]/],
  ] as const) {
    const h = run(join(prefix, 'bin', bin), ['--help'], { cwd: tmp });
    assert.equal(h.status, 0, `${bin} --help: ${h.err}`);
    assert.match(h.out, usage);
  }
});

/** The unit with its paths moved into `root`: /opt/tsdm = the installed prefix; /etc and /var/lib under root. */
function unitIn(root: string): string {
  return UNIT.replaceAll('/opt/tsdm', prefix)
    .replaceAll('/etc/default/dm-agent', join(root, 'etc/default/dm-agent'))
    .replaceAll('/etc/tsdm/', `${join(root, 'etc/tsdm')}/`)
    .replaceAll('/var/lib/tsdm', join(root, 'var/lib/tsdm'));
}

test('systemd-analyze verify accepts the unit', { skip: SYSTEMD_ANALYZE ? false : 'no systemd-analyze' }, () => {
  const root = join(tmp, 'verify');
  mkdirSync(root, { recursive: true });
  // As shipped: the one message allowed is that /opt/tsdm/bin/dm-agent is not installed on this machine.
  writeFileSync(join(root, 'dm-agent.service'), UNIT);
  const shipped = run(SYSTEMD_ANALYZE!, ['verify', join(root, 'dm-agent.service')]);
  const lines = shipped.err.split('\n').filter((l) => l.trim() !== '');
  const envOnly =
    /^dm-agent\.service: Command \/opt\/tsdm\/bin\/dm-agent is not executable: No such file or directory$/;
  assert.ok(
    lines.every((l) => envOnly.test(l)),
    `systemd-analyze verify says more than "not installed here":\n${shipped.err}`,
  );
  if (!existsSync('/opt/tsdm/bin/dm-agent')) assert.equal(lines.length, 1, shipped.err);
  // With /opt/tsdm = the prefix the tarball was installed into: no message at all.
  writeFileSync(join(root, 'dm-agent.service'), unitIn(root));
  const moved = run(SYSTEMD_ANALYZE!, ['verify', join(root, 'dm-agent.service')]);
  assert.equal(moved.status, 0, moved.err);
  assert.equal(moved.err.trim(), '', 'no warning');
});

/** Starts the agent as systemd would from the unit in `root`; resolves with it and its output so far. */
function startAsUnit(root: string) {
  const unit = parseUnit(unitIn(root));
  const argv = splitExecStart(unitValue(unit, 'Service', 'ExecStart'));
  const cwd = unitValue(unit, 'Service', 'WorkingDirectory');
  mkdirSync(cwd, { recursive: true }); // StateDirectory=tsdm: systemd creates it
  const envFile = unitValue(unit, 'Service', 'EnvironmentFile');
  assert.ok(envFile.startsWith('-'), 'the EnvironmentFile is optional');
  const path = envFile.slice(1);
  const fromFile = existsSync(path) ? parseEnvFile(readFileSync(path, 'utf8')) : {};
  const nodeDir = dirname(process.execPath);
  const PATH = [...SYSTEMD_PATH, ...(SYSTEMD_PATH.includes(nodeDir) ? [] : [nodeDir])].join(':');
  // systemd gives a service a clean environment (no TSDM_* from this shell), then the EnvironmentFile.
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { PATH, LANG: 'C.UTF-8', HOME: cwd, ...fromFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, output: () => out, exited, unit };
}

/** Member names from the installed dmctl (`list-member --json`). */
function dmctlMembers(cluster: string): Promise<string[]> {
  const r = run(join(prefix, 'bin', 'dmctl'), ['--nats', nats.url, '--cluster', cluster, 'list-member', '--json']);
  assert.equal(r.status, 0, r.err);
  const j = JSON.parse(r.out) as { members?: { name: string }[] };
  return Promise.resolve((j.members ?? []).map((m) => m.name));
}

/** HTTP status of GET url, or 0 when nothing answers. */
async function httpStatus(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

async function runOnce(root: string, cluster: string, name: string, metricsPort: number): Promise<string> {
  const a = startAsUnit(root);
  try {
    // The agent's start line, then the installed dmctl sees it as a member of the cluster.
    await waitFor(
      async () => a.output().includes('agent started') || a.child.exitCode !== null,
      30_000,
      () => `agent ${name} started; its output:\n${a.output()}`,
    );
    assert.equal(a.child.exitCode, null, `the agent exited at start:\n${a.output()}`);
    await waitFor(async () => (await dmctlMembers(cluster)).includes(name), 20_000, `${name} in list-member`);
    // Ready as the deployment's probes see it: NATS connected and the member key renewed.
    const base = `http://127.0.0.1:${metricsPort}`;
    await waitFor(async () => (await httpStatus(`${base}/readyz`)) === 200, 20_000, `${base}/readyz answers 200`);
    assert.equal(await httpStatus(`${base}/healthz`), 200);
  } catch (e) {
    a.child.kill('SIGKILL');
    throw e;
  }
  a.child.kill(unitValue(a.unit, 'Service', 'KillSignal') as NodeJS.Signals);
  const code = await a.exited;
  assert.equal(code, 0, `clean exit on SIGTERM:\n${a.output()}`);
  // A graceful stop deletes the member key before the process exits.
  assert.ok(!(await dmctlMembers(cluster)).includes(name), 'member key deleted on stop');
  return a.output();
}

test('the agent starts as the unit starts it, with no agent.yaml, joins, is ready and stops on SIGTERM', async () => {
  const root = join(tmp, 'run');
  mkdirSync(join(root, 'etc/default'), { recursive: true });
  // /etc/default/dm-agent as a DBA writes it from deploy/dm-agent.default: NATS and a name, nothing else.
  // The metrics port is a free one here (the deployment's is 8262, which this shared machine may have in use).
  const writeEnv = (port: number) =>
    writeFileSync(
      join(root, 'etc/default/dm-agent'),
      `TSDM_NATS=${nats.url}\nTSDM_NAME=unit-agent\nTSDM_CLUSTER=unit\nTSDM_METRICS_ADDR=127.0.0.1:${port}\n`,
    );
  let port = await freePort();
  writeEnv(port);
  assert.ok(!existsSync(join(root, 'etc/tsdm/agent.yaml')));
  const out = await runOnce(root, 'unit', 'unit-agent', port);
  assert.match(out, /\(--config-if-exists\): flags, environment and defaults/);

  // The shipped sample as /etc/tsdm/agent.yaml: read; its metrics-addr (:8262) is beaten by the environment file's.
  mkdirSync(join(root, 'etc/tsdm'), { recursive: true });
  copyFileSync(join(prefix, 'lib/node_modules/tsdm/deploy/agent.yaml'), join(root, 'etc/tsdm/agent.yaml'));
  port = await freePort();
  writeEnv(port);
  const out2 = await runOnce(root, 'unit', 'unit-agent', port);
  assert.ok(out2.includes(`config ${join(root, 'etc/tsdm/agent.yaml')}`), out2);
});
