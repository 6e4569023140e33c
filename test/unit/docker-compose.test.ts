/** docker-compose.yml cannot run here (no Docker engine): check its shape instead. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  ports?: string[];
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

test('nats is nats:2.10 with JetStream', () => {
  const s = svc('nats');
  assert.equal(s.image, 'nats:2.10');
  assert.ok(args(s).includes('-js'));
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
  ]);
  const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
  assert.match(dockerfile, /^FROM node:20\b/m);
  assert.match(dockerfile, /^RUN npm ci$/m);
});
