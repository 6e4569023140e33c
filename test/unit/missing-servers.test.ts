/**
 * `npm test` and `npm run demo` on a machine without mariadbd/nats-server (issue #17, "Two commands on a fresh
 * machine"): with PATH and TSDM_SERVER_PATH holding none of the servers and no apt-get, both stop at once with one
 * message giving the command to run and exit 3, never a stack trace; with the servers found, the check says nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MISSING_SERVERS_EXIT, missingServers, SERVER_BINARIES } from '../harness/servers.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function run(entry: string[], dir: string) {
  // A fake PATH: an empty folder (no servers, no apt-get, no sudo); node itself is started by its absolute path.
  const env = { HOME: process.env.HOME ?? '/tmp', PATH: dir, TSDM_SERVER_PATH: dir };
  return spawnSync(process.execPath, ['--import', 'tsx', ...entry], { cwd: root, env, encoding: 'utf8' });
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-noservers-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertMessage(r: ReturnType<typeof run>, who: string): void {
  assert.equal(r.status, MISSING_SERVERS_EXIT, `${who} exit code; stderr:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^${who}: mariadbd, mariadb-install-db, nats-server not found \\(looked in`));
  assert.match(r.stderr, /^ {4}sudo bash scripts\/install-servers\.sh$/m);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(r.stdout, '', 'nothing started before the check');
}

test('npm test (integration) without the servers: one message with the command, exit 3', () => {
  withDir((dir) => assertMessage(run(['test/run.ts', 'integration', 'no-such-test-file'], dir), 'npm test'));
});

test('npm run demo without the servers: the same message, exit 3, nothing started', () => {
  withDir((dir) => assertMessage(run(['test/harness/demo.ts'], dir), 'npm run demo'));
});

test('with the servers in TSDM_SERVER_PATH the check passes silently; unit tests alone need no servers', () => {
  withDir((dir) => {
    for (const b of SERVER_BINARIES) {
      writeFileSync(join(dir, b), '#!/bin/sh\nexit 0\n');
      chmodSync(join(dir, b), 0o755);
    }
    // (Not through test/run.ts integration: that goes on to build dist/ with npm, which this fake PATH lacks.)
    assert.deepEqual(missingServers({ PATH: dir, TSDM_SERVER_PATH: dir }), []);
    assert.deepEqual(missingServers({ PATH: dir, TSDM_SERVER_PATH: join(dir, 'none') }), [...SERVER_BINARIES]);
  });
  withDir((dir) => {
    const r = run(['test/run.ts', 'unit', 'no-such-test-file'], dir);
    assert.equal(r.status, 0, r.stderr);
  });
});

test('scripts/install-servers.sh is what .ci/run calls, and it parses', () => {
  const ci = readFileSync(join(root, '.ci', 'run'), 'utf8');
  assert.equal(ci.match(/^bash scripts\/install-servers\.sh --with-promtool$/gm)?.length, 1);
  const syntax = spawnSync('bash', ['-n', join(root, 'scripts', 'install-servers.sh')], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
});
