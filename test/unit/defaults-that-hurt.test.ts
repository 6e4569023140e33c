/**
 * Issue #16 item 5, the parts that need no server: config size limit, YAML alias cap, owner-only files, telling
 * "JetStream off" from a JetStream election, and dmctl's warning about the built-in secret key. The integration
 * side: test/integration/bad-config.test.ts (agent warning, operate-source, export modes, through dmctl) and
 * test/integration/nats-no-jetstream.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAgentConfig, parseSourceConfig, parseTaskConfig } from '../../src/config/index.ts';
import { MAX_ALIAS_NODES, MAX_CONFIG_BYTES } from '../../src/config/limits.ts';
import { BUILTIN_KEY_WARNING } from '../../src/config/secret.ts';
import { isJsDisabled, isJsTransient } from '../../src/coord/client.ts';
import { DmError } from '../../src/errors/index.ts';
import { mkdirPrivate, writePrivateFile } from '../../src/fs/private.ts';
import { readConfigFile } from '../../tui/commands/shared.ts';
import { main } from '../../tui/main.ts';
import { sink } from './sink.ts';

const SOURCE = 'source-id: s1\nfrom:\n  host: 127.0.0.1\n  user: root\n  password: pw\n';

function withDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-defaults-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

function codeOf(fn: () => unknown): { code: string; message: string; context: Record<string, unknown> | undefined } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DmError, String(e));
    return { code: e.code, message: e.message, context: e.context as Record<string, unknown> | undefined };
  }
  assert.fail('no error');
}

test('a config file above 512 KiB is refused as too large (TSDM-10030) before it is read or parsed', async () => {
  const big = SOURCE + `# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`;
  const parsed = codeOf(() => parseSourceConfig(big, 'big.yaml'));
  assert.equal(parsed.code, 'TSDM-10030');
  assert.match(parsed.message, /the file is .*larger than the 512 KiB/);
  assert.equal(parsed.context?.file, 'big.yaml');
  assert.equal(codeOf(() => parseTaskConfig(big, 'task.yaml')).code, 'TSDM-10030');
  // Just under the limit is fine.
  assert.equal(
    parseSourceConfig(SOURCE + `# ${'x'.repeat(MAX_CONFIG_BYTES - SOURCE.length - 10)}\n`, 'ok.yaml').sourceId,
    's1',
  );
  await withDir((dir) => {
    const f = join(dir, 'huge.yaml');
    writeFileSync(f, big);
    const read = codeOf(() => readConfigFile(f));
    assert.equal(read.code, 'TSDM-10030');
    assert.match(String(read.context?.file), /huge\.yaml/);
    const agent = join(dir, 'agent.yaml');
    writeFileSync(agent, `name: a1\n# ${'x'.repeat(MAX_CONFIG_BYTES)}\n`);
    assert.equal(codeOf(() => loadAgentConfig({}, {}, agent)).code, 'TSDM-10030');
  });
});

test('a YAML alias bomb stops at the alias cap with TSDM-10031 naming file, line and key', () => {
  // Nine levels of nine aliases: 9^9 (387 million) nodes if expanded.
  let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n';
  for (const [p, c] of [...'abcdefgh'].map((ch, i) => [ch, 'bcdefghi'[i]!]))
    bomb += `${c}: &${c} [${Array(9).fill(`*${p}`).join(',')}]\n`;
  // Without the cap this would not end (it would run out of memory): the error is the proof it stopped early.
  const e = codeOf(() => parseSourceConfig(SOURCE + bomb, 'bomb.yaml'));
  assert.equal(e.code, 'TSDM-10031');
  assert.match(e.message, new RegExp(`more than ${MAX_ALIAS_NODES} nodes`));
  assert.equal(e.context?.file, 'bomb.yaml');
  assert.equal(e.context?.key, 'f[0]', 'the alias the user wrote whose expansion passed the cap');
  assert.equal(e.context?.line, 11);
  // An alias inside the node it names would recurse forever.
  const self = codeOf(() => parseSourceConfig(SOURCE + 'loop: &l [*l]\n', 'self.yaml'));
  assert.equal(self.code, 'TSDM-10031');
  assert.match(self.message, /nested more than/);
});

test('ordinary anchors and merge keys still work under the cap', () => {
  const task = parseTaskConfig(
    `name: t
task-mode: all
target-database: {host: 127.0.0.1, port: 3306, user: root, password: ""}
mysql-instances:
  - &common {source-id: s0, block-allow-list: bal}
${Array.from({ length: 50 }, (_, i) => `  - {<<: *common, source-id: s${i + 1}}`).join('\n')}
block-allow-list:
  bal: {do-dbs: [db]}
`,
    'task.yaml',
  );
  assert.equal(task.subtasks.length, 51);
  assert.equal(task.subtasks[50]!.sourceId, 's50');
});

test('private files are 0600 and their directories 0700 whatever the umask, an existing file is narrowed', async () => {
  const old = process.umask(0);
  try {
    await withDir((dir) => {
      const d = join(dir, 'export');
      mkdirPrivate(d);
      assert.equal(statSync(d).mode & 0o777, 0o700);
      const f = join(d, 'source.yaml');
      writePrivateFile(f, 'password: x\n');
      assert.equal(statSync(f).mode & 0o777, 0o600);
      writeFileSync(f, 'old', { mode: 0o644 });
      writePrivateFile(f, 'password: y\n');
      assert.equal(statSync(f).mode & 0o777, 0o600, 'an existing 0644 file does not keep its mode');
      // A directory the user named keeps its mode; one tsdm owns is narrowed.
      const user = join(dir, 'mine');
      mkdirSync(user, { mode: 0o755 });
      mkdirPrivate(user);
      assert.equal(statSync(user).mode & 0o777, 0o755);
      mkdirPrivate(user, true);
      assert.equal(statSync(user).mode & 0o777, 0o700);
    });
  } finally {
    process.umask(old);
  }
});

test('JetStream off (no responders, server without JetStream) is told from a JetStream election', () => {
  const noResponders = Object.assign(new Error('503'), { code: '503' });
  assert.equal(isJsDisabled(noResponders, false), true, 'server INFO without jetstream: off');
  assert.equal(isJsDisabled(noResponders, true), false, 'a JetStream server answering 503: an election, retried');
  assert.equal(isJsTransient(noResponders), true);
  const account = Object.assign(new Error('jetstream not enabled for account'), {
    code: '503',
    api_error: { code: 503, err_code: 10039, description: 'jetstream not enabled for account' },
  });
  assert.equal(isJsDisabled(account, true), true, 'off for the NATS account');
  assert.equal(isJsDisabled(Object.assign(new Error('t'), { code: 'TIMEOUT' }), false), false);
});

async function dmctl(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const saved = process.env.TSDM_SECRET_KEY_PATH;
  delete process.env.TSDM_SECRET_KEY_PATH;
  try {
    const code = await main(args, out.stream, err.stream);
    return { code, out: out.text(), err: err.text() };
  } finally {
    if (saved !== undefined) process.env.TSDM_SECRET_KEY_PATH = saved;
  }
}

test('dmctl encrypt without a key file warns (stderr, or `warnings` in the JSON); with one it does not', async () => {
  const text = await dmctl(['encrypt', 'pw']);
  assert.equal(text.code, 0);
  assert.match(text.err, /^WARNING: no secret key file/);
  assert.match(text.err, /openssl rand -hex 32/);
  assert.match(text.err, /--secret-key-path/);
  assert.match(text.out, /^[A-Za-z0-9+/=]+\n$/, 'stdout holds only the ciphertext');
  const json = await dmctl(['encrypt', 'pw', '--json']);
  assert.equal(json.err, '', 'nothing on stderr with --json');
  const doc = JSON.parse(json.out) as { result: boolean; ciphertext: string; warnings: string[] };
  assert.equal(doc.result, true);
  assert.deepEqual(doc.warnings, [BUILTIN_KEY_WARNING]);
  await withDir(async (dir) => {
    const key = join(dir, 'secret.key');
    writeFileSync(key, 'ab'.repeat(32));
    const keyed = await dmctl(['encrypt', 'pw', '--secret-key-path', key, '--json']);
    assert.equal(keyed.err, '');
    assert.equal((JSON.parse(keyed.out) as { warnings?: unknown }).warnings, undefined);
  });
});
