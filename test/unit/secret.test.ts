/** dmctl encrypt and the stored form of passwords (src/config/secret.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  encryptPassword,
  encryptYamlPasswords,
  loadSecretKey,
  plainPassword,
  redactYamlPasswords,
  SOURCE_PASSWORD_PATHS,
  TASK_PASSWORD_PATHS,
  tryDecrypt,
} from '../../src/config/secret.ts';
import { parseSourceConfig } from '../../src/config/index.ts';
import { nextTerm } from '../../agent/cluster/scheduler.ts';

const key = randomBytes(32);

test('a ciphertext decrypts under its key only; a plain password stays plain', () => {
  const c = encryptPassword('s3cret 😀', key);
  assert.notEqual(c, encryptPassword('s3cret 😀', key), 'random iv');
  assert.equal(tryDecrypt(c, key), 's3cret 😀');
  assert.equal(tryDecrypt(c, randomBytes(32)), undefined, 'another key fails authentication');
  assert.equal(plainPassword('hunter2', key), 'hunter2');
  assert.equal(plainPassword(c, key), 's3cret 😀');
  assert.equal(plainPassword('', key), '');
});

test('key files: hex, base64, raw 32 bytes; anything else is TSDM-10021', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-key-unit-'));
  const k = randomBytes(32);
  const f = (name: string, data: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  assert.deepEqual(loadSecretKey(f('hex', k.toString('hex') + '\n')), k);
  assert.deepEqual(loadSecretKey(f('b64', k.toString('base64'))), k);
  assert.deepEqual(loadSecretKey(f('raw', k)), k);
  assert.throws(() => loadSecretKey(f('short', 'abc')), /TSDM-10021|32 bytes/);
  assert.throws(
    () => loadSecretKey(join(dir, 'missing')),
    (e: Error & { code?: string }) => /cannot read/.test(e.message),
  );
  assert.equal(loadSecretKey(undefined).length, 32, 'built-in key');
});

test('files are stored with encrypted passwords, comments and the text of other values kept', () => {
  const text = '# my source\nsource-id: s1\nfrom:\n  host: 127.0.0.1\n  user: root\n  password: 0123 # plain\n';
  const out = encryptYamlPasswords(text, SOURCE_PASSWORD_PATHS, key);
  assert.match(out, /# my source/);
  assert.ok(!/password: 0123/.test(out));
  const cfg = parseSourceConfig(out, 's1.yaml');
  assert.equal(plainPassword(cfg.from.password, key), '0123', 'the text as written, not the number 123');
  assert.equal(encryptYamlPasswords(out, SOURCE_PASSWORD_PATHS, key), out, 'an encrypted value is kept');
  const task = 'name: t\ntarget-database:\n  host: h\n  password: ""\n';
  assert.equal(encryptYamlPasswords(task, TASK_PASSWORD_PATHS, key), task, 'an empty password stays empty');
  const red = redactYamlPasswords(out, SOURCE_PASSWORD_PATHS);
  assert.match(red, /password: "?\*{6}"?/);
});

test('binding terms grow strictly, also across a deleted binding', () => {
  const a = nextTerm(undefined);
  assert.ok(a >= Date.now() - 1000);
  assert.equal(nextTerm(a + 10_000_000), a + 10_000_001, 'previous + 1 when the clock is behind');
  assert.ok(nextTerm(5) > 5);
});

test('config errors after an encrypted password keep the line numbers of the user file', () => {
  // Re-printing the document would fold this long flow sequence onto several lines (the bug: errors below it were
  // reported lines too far down).
  const long = Array.from({ length: 12 }, (_, i) => `shop_table_number_${i}`).join(', ');
  const text = [
    'source-id: s1',
    'from:',
    '  host: 127.0.0.1',
    '  user: root',
    '  password: |',
    '    multi',
    `  extra: [${long}]`,
    'enable-gtid: maybe',
    '',
  ].join('\n');
  const out = encryptYamlPasswords(text, SOURCE_PASSWORD_PATHS, key);
  assert.equal(out.split('\n').length, text.split('\n').length, 'same number of lines');
  assert.equal(out.split('\n')[6], text.split('\n')[6], 'later lines are untouched');
  const lineOf = (t: string) => {
    try {
      parseSourceConfig(t, 's1.yaml');
    } catch (e) {
      return (e as { context?: { line?: number } }).context?.line;
    }
    return undefined;
  };
  assert.equal(lineOf(text), 7, 'the first error, in the user file');
  assert.equal(lineOf(out), 7, 'the same line once the password is encrypted');
  assert.equal(
    plainPassword(
      parseSourceConfig(out.replace(/\n {2}extra.*\nenable-gtid: maybe/, ''), 's1.yaml').from.password,
      key,
    ),
    'multi\n',
  );
});
