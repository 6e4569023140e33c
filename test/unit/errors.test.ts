import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Errors, DmError, RemoteDmError, formatRecord } from '../../src/errors/index.ts';
import { errorsMarkdown } from '../../src/errors/gen-docs.ts';
import { configErrors } from '../../src/errors/catalog-config.ts';
import { upstreamErrors } from '../../src/errors/catalog-upstream.ts';
import { downstreamErrors } from '../../src/errors/catalog-downstream.ts';
import { relayErrors } from '../../src/errors/catalog-relay.ts';
import { coordinationErrors } from '../../src/errors/catalog-coordination.ts';
import { internalErrors } from '../../src/errors/catalog-internal.ts';

test('error codes are unique and docs/errors.md is up to date', () => {
  const codes = Object.values(Errors).map((e) => e.code);
  assert.equal(new Set(codes).size, codes.length);
  assert.equal(
    readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8'),
    errorsMarkdown(),
    'run npm run docs:errors',
  );
});

test('every name of the catalog is in exactly one of its parts (a repeated name would hide the other)', () => {
  const parts = [configErrors, upstreamErrors, downstreamErrors, relayErrors, coordinationErrors, internalErrors];
  const names = parts.flatMap((p) => Object.keys(p));
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(names, Object.keys(Errors));
});

test('a DmError carries code, class, retryable, context and suggestion, and formats them', () => {
  const e = new DmError('DownstreamExec', 'statement failed', {
    context: { sql: 'INSERT INTO t VALUES (1)', position: '(binlog.000001, 4)' },
    cause: Object.assign(new Error('dup'), { errno: 1062 }),
  });
  const r = e.toRecord();
  assert.equal(r.code, 'TSDM-30003');
  assert.equal(r.class, 'downstream');
  assert.equal(r.retryable, false);
  assert.equal(r.cause, 'dup (errno 1062)');
  const text = formatRecord(r);
  assert.match(text, /^\[TSDM-30003\] at \(binlog\.000001, 4\): statement failed/);
  assert.match(text, /SQL: INSERT INTO t VALUES \(1\)/);
  assert.match(text, /suggestion: /);
  const remote = new RemoteDmError(r);
  assert.equal(remote.code, 'TSDM-30003');
  assert.deepEqual(remote.toRecord(), r);
});

test('an error carries at most SQL_CONTEXT_CHARS of its statement, saying how long it was (a row can be megabytes)', async () => {
  const { DmError, SQL_CONTEXT_CHARS } = await import('../../src/errors/dm-error.ts');
  const sql = `INSERT INTO t VALUES ('${'x'.repeat(5_000_000)}')`;
  const rec = new DmError('DownstreamPacketTooLarge', 'downstream error 1153', {
    context: { sql, errno: 1153 },
  }).toRecord();
  assert.ok(rec.context!.sql!.startsWith(sql.slice(0, SQL_CONTEXT_CHARS)));
  assert.match(rec.context!.sql!, new RegExp(`… \\(${sql.length} characters in all\\)$`));
  assert.equal(rec.context!.errno, 1153);
  assert.ok(JSON.stringify(rec).length < 10_000);
  const short = new DmError('DownstreamExec', 'x', { context: { sql: 'SELECT 1' } });
  assert.equal(short.context.sql, 'SELECT 1');
});

test('a downstream table shaped unlike the rows: TSDM-30003 with the cause and the fix, not the generic advice', async () => {
  const { classifyMysqlError } = await import('../../agent/db/mysql.ts');
  const col = classifyMysqlError({ errno: 1054, sqlMessage: "Unknown column 'c' in 'INSERT INTO'" }, 'downstream', {
    sql: 'INSERT INTO t (a, c) VALUES (1, 2)',
  });
  assert.equal(col.code, 'TSDM-30003');
  assert.match(col.suggestion, /lacks a column.*filtered by the task.*ALTER TABLE … ADD COLUMN/);
  const table = classifyMysqlError({ errno: 1146, sqlMessage: "Table 'd.t' doesn't exist" }, 'downstream');
  assert.match(table.suggestion, /no such table.*SHOW CREATE TABLE/);
  // Other statement errors, and the upstream's, keep the catalog's advice.
  const other = classifyMysqlError({ errno: 1062, sqlMessage: 'Duplicate entry' }, 'downstream');
  assert.equal(other.suggestion, Errors.DownstreamExec.suggestion);
  assert.equal(
    classifyMysqlError({ errno: 1054, sqlMessage: 'x' }, 'upstream').suggestion,
    Errors.UpstreamQuery.suggestion,
  );
});
