import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAgentConfig, redact, redactUrl, REDACTED } from '../../src/config/index.ts';
import { agentNatsSettings } from '../../src/config/agent-config.ts';
import { DmError, Errors } from '../../src/errors/index.ts';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-agent-cfg-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('defaults: host name, local NATS, cluster dm, data dir under ./.tsdm-data', () => {
  const c = loadAgentConfig({}, {});
  const name = hostname().replace(/[^A-Za-z0-9_.=-]/g, '-');
  assert.equal(c.name, name);
  assert.equal(c.nats, 'nats://127.0.0.1:4222');
  assert.equal(c.cluster, 'dm');
  assert.equal(c.dataDir, resolve(`./.tsdm-data/${name}`));
  assert.equal(c.logLevel, 'info');
  assert.equal(c.natsUser, undefined);
  assert.equal(c.natsPassword, undefined);
});

test('precedence per field: flags > env > file > defaults', () => {
  withDir((dir) => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      'name: from-file\nnats: nats://file:4222\ncluster: filecluster\ndata-dir: data\nlog-level: debug\nnats-user: fu\nnats-password: fp\n',
    );
    const env = {
      TSDM_NATS: 'nats://env:4222',
      TSDM_CLUSTER: 'envcluster',
      TSDM_LOG_LEVEL: '',
      TSDM_NATS_TOKEN: 'tok',
    };
    const c = loadAgentConfig({ cluster: 'flagcluster', replicas: 3 }, env, file);
    assert.equal(c.name, 'from-file');
    assert.equal(c.nats, 'nats://env:4222');
    assert.equal(c.cluster, 'flagcluster');
    // Relative paths in the file are relative to the file, not to the working directory.
    assert.equal(c.dataDir, join(dir, 'data'));
    assert.equal(c.logLevel, 'debug', 'an empty environment variable counts as unset');
    assert.equal(c.replicas, 3);
    assert.equal(c.natsUser, 'fu');
    assert.equal(c.natsPassword, 'fp');
    assert.equal(c.natsToken, 'tok');
    // The data dir default follows the resolved name.
    const d = loadAgentConfig({ name: 'agent-7' }, {});
    assert.equal(d.dataDir, resolve('./.tsdm-data/agent-7'));
  });
});

test('bad flag: BadArguments; bad env: ConfigInvalid naming the variable', () => {
  assert.throws(
    () => loadAgentConfig({ cluster: 'a.b' }, {}),
    (e: unknown) => {
      assert.ok(e instanceof DmError);
      assert.equal(e.code, Errors.BadArguments.code);
      assert.equal(e.context.key, '--cluster');
      return true;
    },
  );
  assert.throws(
    () => loadAgentConfig({}, { TSDM_NATS: 'http://x:4222' }),
    (e: unknown) => {
      assert.ok(e instanceof DmError);
      assert.equal(e.code, Errors.ConfigInvalid.code);
      assert.equal(e.context.key, 'TSDM_NATS');
      assert.match(e.message, /nats:\/\/, tls:\/\//);
      return true;
    },
  );
  assert.throws(() => loadAgentConfig({}, { TSDM_LOG_LEVEL: 'loud' }), /log level must be one of/);
});

test('agent.yaml errors: unknown key with suggestion and line, bad value, unreadable file', () => {
  withDir((dir) => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'name: a1\ndatadir: /var/lib/tsdm\n');
    assert.throws(
      () => loadAgentConfig({}, {}, file),
      (e: unknown) => {
        assert.ok(e instanceof DmError);
        assert.equal(e.code, Errors.ConfigUnknownKey.code);
        assert.equal(e.context.file, file);
        assert.equal(e.context.line, 2);
        assert.equal(e.context.key, 'datadir');
        assert.match(e.message, /did you mean "data-dir"/);
        return true;
      },
    );
    writeFileSync(file, 'name: a1\nreplicas: everywhere\n');
    assert.throws(
      () => loadAgentConfig({}, {}, file),
      (e: unknown) =>
        e instanceof DmError &&
        e.code === Errors.ConfigInvalid.code &&
        e.context.line === 2 &&
        e.context.key === 'replicas',
    );
    assert.throws(
      () => loadAgentConfig({}, {}, join(dir, 'missing.yaml')),
      (e: unknown) => e instanceof DmError && e.code === Errors.ConfigFileRead.code,
    );
  });
});

test('redact hides secret-named fields in any spelling and credentials in URLs, without touching the input', () => {
  const input = {
    from: { host: 'h', user: 'u', password: 'p1' },
    'nats-password': 'p2',
    natsToken: 't',
    SSL_SECRET: 's',
    passwd: 'x',
    empty: { password: '' },
    list: [{ clientSecret: 'c' }, 'nats://user:pw@host:4222,nats://a:b@other:4222'],
    nats: 'nats://user:pw@host:4222',
    count: 3,
    when: new Date(0),
  };
  const out = redact(input);
  assert.equal(out.from.password, REDACTED);
  assert.equal(out.from.user, 'u');
  assert.equal(out['nats-password'], REDACTED);
  assert.equal(out.natsToken, REDACTED);
  assert.equal(out.SSL_SECRET, REDACTED);
  assert.equal(out.passwd, REDACTED);
  assert.equal(out.empty.password, '', 'an empty password reveals nothing and stays empty');
  assert.deepEqual(out.list[0], { clientSecret: REDACTED });
  assert.equal(out.list[1], 'nats://host:4222,nats://other:4222');
  assert.equal(out.nats, 'nats://host:4222');
  assert.equal(out.count, 3);
  assert.equal(out.when, input.when);
  assert.equal(input.from.password, 'p1', 'input unchanged');
  const cyc: Record<string, unknown> = { token: 'x' };
  cyc['self'] = cyc;
  const rc = redact(cyc);
  assert.equal(rc['token'], REDACTED);
  assert.equal(rc['self'], rc);
});

test('redactUrl strips user:pass and keeps the rest', () => {
  assert.equal(redactUrl('nats://u:p@10.0.0.5:4222'), 'nats://10.0.0.5:4222');
  assert.equal(redactUrl('tls://token@h:4222/x?y=1'), 'tls://h:4222/x?y=1');
  assert.equal(redactUrl('nats://10.0.0.5:4222'), 'nats://10.0.0.5:4222');
  assert.equal(redactUrl('mysql://root:secret@db:3306/app'), 'mysql://db:3306/app');
});

test('NATS options: every one from flag, env or agent.yaml (paths relative to the file), with where it came from', () => {
  withDir((dir) => {
    const file = join(dir, 'agent.yaml');
    writeFileSync(file, 'nats-creds: secrets/agent.creds\nnats-tls-ca: ca.pem\nnats-password: fp\n');
    const c = loadAgentConfig({ natsTlsCert: 'c.pem' }, { TSDM_NATS_TLS_KEY: 'k.pem', TSDM_NATS_USER: 'eu' }, file);
    assert.equal(c.natsCreds, join(dir, 'secrets/agent.creds'));
    assert.equal(c.natsTlsCa, join(dir, 'ca.pem'));
    assert.equal(c.natsTlsCert, resolve('c.pem'));
    assert.equal(c.natsTlsKey, resolve('k.pem'));
    const { settings, origins } = agentNatsSettings(c);
    assert.deepEqual(settings, {
      servers: 'nats://127.0.0.1:4222',
      user: 'eu',
      password: 'fp',
      creds: join(dir, 'secrets/agent.creds'),
      tlsCa: join(dir, 'ca.pem'),
      tlsCert: resolve('c.pem'),
      tlsKey: resolve('k.pem'),
    });
    assert.equal(origins.creds, `${file} key nats-creds`);
    assert.equal(origins.tlsCert, '--nats-tls-cert');
    assert.equal(origins.tlsKey, 'TSDM_NATS_TLS_KEY');
    assert.equal(origins.password, `${file} key nats-password`);
    assert.equal(origins.servers, 'the default --nats');
  });
});

test('a bad NATS URL is reported without the password it holds', () => {
  assert.throws(
    () => loadAgentConfig({}, { TSDM_NATS: 'http://u:hunter2@x:4222' }),
    (e: unknown) => e instanceof DmError && !e.message.includes('hunter2') && /http:\/\/x:4222/.test(e.message),
  );
});

test('log settings: flag, env and agent.yaml (a relative log-file is relative to the file), defaults, bad values', () => {
  withDir((dir) => {
    const d = loadAgentConfig({}, {});
    assert.equal(d.logFormat, 'auto');
    assert.equal(d.logFile, undefined);
    assert.equal(d.logFileMaxSize, '100m');
    assert.equal(d.logFileKeep, 10);
    const file = join(dir, 'agent.yaml');
    writeFileSync(
      file,
      'log-level: warn\nlog-format: text\nlog-file: logs/agent.log\nlog-file-max-size: 10m\nlog-file-keep: 4\n',
    );
    const f = loadAgentConfig({}, {}, file);
    assert.equal(f.logLevel, 'warn');
    assert.equal(f.logFormat, 'text');
    assert.equal(f.logFile, join(dir, 'logs', 'agent.log'));
    assert.equal(f.logFileMaxSize, '10m');
    assert.equal(f.logFileKeep, 4);
    const e = loadAgentConfig(
      {},
      { TSDM_LOG_FORMAT: 'json', TSDM_LOG_FILE: '/var/log/tsdm/a.log', TSDM_LOG_FILE_KEEP: '2' },
      file,
    );
    assert.equal(e.logFormat, 'json');
    assert.equal(e.logFile, '/var/log/tsdm/a.log');
    assert.equal(e.logFileKeep, 2);
    const g = loadAgentConfig({ logLevel: 'debug', logFileMaxSize: '512k' }, { TSDM_LOG_LEVEL: 'error' }, file);
    assert.equal(g.logLevel, 'debug');
    assert.equal(g.logFileMaxSize, '512k');
  });
  assert.throws(
    () => loadAgentConfig({ logFormat: 'pretty' } as never, {}),
    /log format must be one of auto, text, json/,
  );
  assert.throws(
    () => loadAgentConfig({}, { TSDM_LOG_FILE_MAX_SIZE: '10 MB' }),
    /TSDM_LOG_FILE_MAX_SIZE: log file size/,
  );
  assert.throws(() => loadAgentConfig({}, { TSDM_LOG_FILE_KEEP: '0' }), /log file keep must be a number/);
});
