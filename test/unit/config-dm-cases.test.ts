/**
 * DM's own integration-suite configs (../shared/dm-cases, see its README): every source*.yaml must parse,
 * and every task file must parse or fail with ConfigUnsupportedKey on a key from UNSUPPORTED_KEYS.
 * Prints each file's outcome, so the list of DM features still missing is visible in the test log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSourceConfig, loadTaskConfig, UNSUPPORTED_KEYS, formatNote } from '../../src/config/index.ts';
import { DmError, Errors } from '../../src/errors/index.ts';

const ROOT = resolve(process.env['TSDM_DM_CASES'] ?? '../shared/dm-cases');
const present = existsSync(ROOT);
const skip = present ? false : `DM cases not found at ${ROOT} (set TSDM_DM_CASES); users' clones do not have them`;

/** DM's run.sh replaces these with real values (sed) before using the files; do the same. */
function substitutePlaceholders(text: string): string {
  return text
    .replaceAll('binlog-gtid-placeholder-1', '3ccc475b-2343-11e7-be21-6c0b84d59f30:0')
    .replaceAll('binlog-gtid-placeholder', '3ccc475b-2343-11e7-be21-6c0b84d59f30:0')
    .replaceAll('binlog-name-placeholder-2', 'mysql-bin.000001')
    .replaceAll('binlog-name-placeholder', 'mysql-bin.000001')
    .replaceAll('binlog-pos-placeholder-2', '4')
    .replaceAll('import-mode-placeholder', 'logical');
}

function confFiles(pattern: RegExp): string[] {
  if (!present) return [];
  return readdirSync(ROOT)
    .flatMap((c) => {
      const dir = join(ROOT, c, 'conf');
      return existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => pattern.test(f))
            .map((f) => join(dir, f))
        : [];
    })
    .sort();
}

/** Does a concrete key path (`routes.r1.extract-table`) match an UNSUPPORTED_KEYS pattern (`routes.*.extract-table`)? */
function isListedUnsupported(key: string): boolean {
  return UNSUPPORTED_KEYS.some((r) => {
    const re = new RegExp(
      '^' +
        r.key
          .replace(/[.+?^${}()|\\]/g, '\\$&')
          .replace(/\\\.\*/g, '\\.[^.]+')
          .replace(/\[\]/g, '\\[\\d+\\]') +
        '$',
    );
    return re.test(key);
  });
}

test('every DM source*.yaml parses', { skip }, () => {
  const files = confFiles(/^source.*\.ya?ml$/);
  assert.ok(files.length > 0);
  for (const f of files) {
    const { config } = loadSourceConfig(substitutePlaceholders(readFileSync(f, 'utf8')), f);
    assert.match(config.sourceId, /^mysql-replica-0\d$/);
    console.log(`  ok   ${f.slice(ROOT.length + 1)} (${config.sourceId})`);
  }
});

test('every DM task file parses or names an unsupported key', { skip }, () => {
  const files = confFiles(/task.*\.ya?ml$/);
  assert.ok(files.length > 0);
  const failed: string[] = [];
  for (const f of files) {
    const rel = f.slice(ROOT.length + 1);
    try {
      const { config, notes } = loadTaskConfig(substitutePlaceholders(readFileSync(f, 'utf8')), f);
      const compat = notes
        .filter((n) => n.kind !== 'no-effect')
        .map((n) => `\n         note: ${formatNote(n).slice(f.length + 1)}`)
        .join('');
      console.log(`  ok   ${rel} (${config.taskMode}, ${config.subtasks.length} source(s))${compat}`);
    } catch (e) {
      assert.ok(e instanceof DmError, `${rel}: ${String(e)}`);
      assert.equal(
        e.code,
        Errors.ConfigUnsupportedKey.code,
        `${rel} must parse or fail with ConfigUnsupportedKey:\n${e.format()}`,
      );
      assert.ok(
        e.context.key && isListedUnsupported(e.context.key),
        `${rel}: ${e.context.key} is not in UNSUPPORTED_KEYS`,
      );
      assert.equal(e.context.file, f);
      assert.ok((e.context.line ?? 0) > 0);
      failed.push(rel);
      console.log(
        `  FAIL ${rel}: line ${e.context.line} ${e.context.key}: ${e.message.split(': ').slice(1).join(': ').split(' (also')[0]}`,
      );
    }
  }
  console.log(
    `  ${files.length - failed.length}/${files.length} task files parse; the others need the features named above`,
  );
});
