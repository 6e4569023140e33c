/** Events (dm_events): the record (redaction, bounds, severities), its text line, --since, and the subjects. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventKind, KIND_SEVERITY, MAX_TEXT, makeEvent, parseEvent, whoAmI } from '../../src/events/record.ts';
import { eventMessage, eventSubject, formatEventLine, parseSince } from '../../src/events/format.ts';
import { Subjects } from '../../src/coord/buckets.ts';

test('makeEvent fills id, time, severity by kind and the agent; parseEvent reads it back with its sequence', () => {
  const now = new Date('2026-12-03T17:00:00.000Z');
  const e = makeEvent(
    { kind: EventKind.taskPaused, task: 't1', source: 's1', message: 'paused', by: 'ann@h' },
    'a1',
    now,
  );
  assert.equal(e.severity, 'warn');
  assert.equal(e.time, '2026-12-03T17:00:00.000Z');
  assert.equal(e.agent, 'a1');
  assert.match(e.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(parseEvent(JSON.parse(JSON.stringify(e)), 7), { ...e, seq: 7 });
  assert.equal(parseEvent({ kind: 'x' }), undefined, 'not an event');
  // A newer agent's kind is still read.
  assert.equal(parseEvent({ ...e, kind: 'shard.lock.pending-long' })?.kind, 'shard.lock.pending-long');
});

test('every kind has a severity', () => {
  for (const k of Object.values(EventKind)) assert.ok(KIND_SEVERITY[k], k);
  assert.equal(KIND_SEVERITY['task.error'], 'error');
  assert.equal(KIND_SEVERITY.failover, 'warn');
});

test('no secret reaches an event: secret-named fields and URL credentials are redacted, text is bounded', () => {
  const e = makeEvent(
    {
      kind: EventKind.taskError,
      task: 't',
      message: 'cannot connect to mysql://root:hunter2@db:3306/x',
      error: { code: 'TSDM-1', message: 'x'.repeat(5000), suggestion: 'fix it' },
      detail: { password: 'hunter2', sql: 'y'.repeat(5000) },
    },
    'a',
  );
  const text = JSON.stringify(e);
  assert.ok(!text.includes('hunter2'), text.slice(0, 300));
  assert.equal(e.detail?.password, '******');
  assert.ok(e.error!.message.length <= MAX_TEXT);
  assert.ok(String(e.detail?.sql).length <= MAX_TEXT);
  assert.ok(text.length < 3 * MAX_TEXT + 600, `an event stays small (${text.length})`);
});

test('an error record keeps only code, message and suggestion', () => {
  const e = makeEvent(
    {
      kind: EventKind.taskError,
      message: 'paused',
      error: {
        code: 'TSDM-36001',
        class: 'downstream',
        retryable: false,
        message: 'DDL failed',
        suggestion: 'skip it',
        context: { sql: 'ALTER' },
      },
    },
    'a',
  );
  assert.deepEqual(e.error, { code: 'TSDM-36001', message: 'DDL failed', suggestion: 'skip it' });
});

test('formatEventLine: one line with time, severity, kind, subject, code, message, who', () => {
  const e = makeEvent(
    {
      kind: EventKind.taskError,
      task: 'shop',
      source: 'mysql-01',
      position: 'binlog.000001:4512',
      message: 'paused by an error in sync',
      error: { code: 'TSDM-36001', message: 'ALTER TABLE failed:\nduplicate column' },
    },
    'agent-1',
    new Date('2026-12-03T17:00:00.000Z'),
  );
  const line = formatEventLine(e);
  assert.equal(
    line,
    '2026-12-03T17:00:00.000Z  ERROR  task.error           task=shop source=mysql-01 pos=binlog.000001:4512  [TSDM-36001] paused by an error in sync: ALTER TABLE failed: duplicate column  [agent-1]',
  );
  assert.ok(!line.includes('\n'));
  const p = makeEvent({ kind: EventKind.taskPaused, task: 't', message: 'paused', by: 'ann@h' });
  assert.equal(eventMessage(p), 'paused (by ann@h)');
  assert.equal(eventSubject(makeEvent({ kind: EventKind.leaderChanged, message: 'x' })), '');
});

test('parseSince: Go durations, days, times; nonsense is undefined', () => {
  const now = Date.parse('2026-12-03T17:00:00Z');
  assert.equal(parseSince('15m', now)?.toISOString(), '2026-12-03T16:45:00.000Z');
  assert.equal(parseSince('1h30m', now)?.toISOString(), '2026-12-03T15:30:00.000Z');
  assert.equal(parseSince('2d', now)?.toISOString(), '2026-12-01T17:00:00.000Z');
  assert.equal(parseSince('2026-12-03T12:00:00Z', now)?.toISOString(), '2026-12-03T12:00:00.000Z');
  assert.equal(parseSince('yesterday', now), undefined);
  assert.equal(parseSince('-5m', now), undefined);
});

test('subjects put task and source in tokens, so --task/--source filter on the server', () => {
  assert.equal(Subjects.event('dm', 'task.paused', 'shop', 's1'), 'dm.events.shop.s1.task.paused');
  assert.equal(Subjects.event('dm', 'leader.changed'), 'dm.events.=.=.leader.changed');
  assert.equal(Subjects.event('dm', 'failover', undefined, 'my.src'), 'dm.events.=.my=2esrc.failover');
  assert.equal(Subjects.events('dm'), 'dm.events.*.*.>');
  assert.equal(Subjects.events('dm', 'shop'), 'dm.events.shop.*.>');
  assert.equal(Subjects.events('dm', undefined, 's1'), 'dm.events.*.s1.>');
});

test('whoAmI is user@host', () => {
  assert.match(whoAmI(), /^[^@\s]+@[^@\s]+$/);
});
