/**
 * docker-compose.yml cannot run here (no Docker engine): check its shape instead, and `docker compose config` when a
 * Docker CLI with the compose plugin is installed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  ports?: string[];
  healthcheck?: { test?: string[] | string; interval?: string; timeout?: string; retries?: number };
  depends_on?: Record<string, { condition?: string }>;
}

const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};
const svc = (name: string): Service => {
  const s = compose.services[name];
  assert.ok(s, `service ${name} exists`);
  return s;
};
const args = (s: Service): string[] =>
  Array.isArray(s.command) ? s.command : (s.command ?? '').split(/\s+/).filter(Boolean);

test('docker-compose.yml has exactly the services mysql, tidb, nats, dm-agent', () => {
  assert.deepEqual(Object.keys(compose.services).sort(), ['dm-agent', 'mysql', 'nats', 'tidb']);
});

test('mysql is MySQL 8.0 with ROW/FULL binlog, GTID and a server id', () => {
  const s = svc('mysql');
  assert.equal(s.image, 'mysql:8.0');
  const a = args(s);
  for (const flag of [
    '--binlog-format=ROW',
    '--binlog-row-image=FULL',
    '--gtid-mode=ON',
    '--enforce-gtid-consistency=ON',
  ]) {
    assert.ok(a.includes(flag), `mysql has ${flag}`);
  }
  assert.ok(
    a.some((x) => /^--log-bin(=|$)/.test(x)),
    'mysql has --log-bin',
  );
  assert.ok(
    a.some((x) => /^--server-id=\d+$/.test(x)),
    'mysql has --server-id',
  );
});

test('tidb is a pingcap/tidb image on port 4000', () => {
  const s = svc('tidb');
  assert.match(s.image ?? '', /^pingcap\/tidb(:|$)/);
  assert.ok(s.ports?.some((p) => String(p).endsWith(':4000') || String(p) === '4000'));
});

test('nats is nats:2.10 with JetStream and its monitoring port', () => {
  const s = svc('nats');
  assert.equal(s.image, 'nats:2.10-alpine');
  assert.ok(args(s).includes('-js'));
  assert.deepEqual(args(s).slice(args(s).indexOf('-m'), args(s).indexOf('-m') + 2), ['-m', '8222']);
});

test('every service has a healthcheck: a command, an interval, a timeout and retries', () => {
  for (const [name, s] of Object.entries(compose.services)) {
    const h = s.healthcheck;
    assert.ok(h, `${name} has a healthcheck`);
    const t = Array.isArray(h.test) ? h.test : [];
    assert.ok(['CMD', 'CMD-SHELL'].includes(t[0] ?? ''), `${name}: test is ["CMD", ...] or ["CMD-SHELL", ...]`);
    assert.ok(t.length >= 2, `${name}: the healthcheck runs something`);
    for (const k of ['interval', 'timeout'] as const) assert.match(String(h[k]), /^\d+s$/, `${name}: ${k}`);
    assert.ok(Number.isInteger(h.retries) && h.retries! > 0, `${name}: retries`);
  }
  assert.match(String(svc('nats').healthcheck?.test), /127\.0\.0\.1:8222\/healthz/);
  assert.match(String(svc('tidb').healthcheck?.test), /127\.0\.0\.1:10080\/status/);
});

test('dm-agent waits for MySQL, TiDB and NATS to be healthy', () => {
  const d = svc('dm-agent').depends_on ?? {};
  assert.deepEqual(Object.keys(d).sort(), ['mysql', 'nats', 'tidb']);
  for (const [name, dep] of Object.entries(d)) assert.equal(dep.condition, 'service_healthy', name);
});

test('ports are HOST:CONTAINER in range, host ports distinct', () => {
  const hostPorts: number[] = [];
  for (const [name, s] of Object.entries(compose.services))
    for (const p of s.ports ?? []) {
      const m = /^(\d+):(\d+)$/.exec(String(p));
      assert.ok(m, `${name}: port ${p} is "HOST:CONTAINER" (a quoted string)`);
      for (const n of [Number(m[1]), Number(m[2])]) assert.ok(n >= 1 && n <= 65535, `${name}: ${p}`);
      hostPorts.push(Number(m[1]));
    }
  assert.equal(new Set(hostPorts).size, hostPorts.length, `host ports distinct: ${hostPorts.join(', ')}`);
});

/** `docker compose` (plugin) or `docker-compose` (standalone), if either runs here. */
function composeCli(): string[] | undefined {
  for (const cmd of [['docker', 'compose'], ['docker-compose']]) {
    const r = spawnSync(cmd[0]!, [...cmd.slice(1), 'version'], { encoding: 'utf8' });
    if (r.status === 0) return cmd;
  }
  return undefined;
}
const cli = composeCli();

test('docker compose config accepts the file', { skip: cli ? false : 'no docker compose here' }, () => {
  const file = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));
  const r = spawnSync(cli![0]!, [...cli!.slice(1), '-f', file, 'config', '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('dm-agent is built here and runs dm-agent against the nats service', () => {
  const s = svc('dm-agent');
  assert.ok(s.build, 'dm-agent has a build section');
  assert.deepEqual(args(s), [
    'npx',
    'dm-agent',
    '--nats',
    'nats://nats:4222',
    '--name',
    'agent-1',
    '--data-dir',
    '/data',
    '--metrics-addr',
    ':8262',
  ]);
  assert.ok(s.ports?.includes('8262:8262'), "the agent's metrics port (DM-worker's 8262) is published");
  assert.match(String(s.healthcheck?.test), /127\.0\.0\.1:8262\/healthz/);
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  assert.match(dockerfile, /^FROM node:20\b/m);
  assert.match(dockerfile, /^RUN npm ci$/m);
});
