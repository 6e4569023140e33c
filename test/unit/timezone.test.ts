import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shiftTimestamp, taskZone } from '../../agent/db/timezone.ts';
import type { TaskConfig } from '../../src/config/types.ts';
import { namedZoneOffset } from '../../src/sql/session-vars.ts';

const task = (timezone: string, session: Record<string, string> = {}) =>
  ({ timezone, targetDatabase: { host: 'h', port: 3306, user: 'u', password: '', session } }) as TaskConfig;

test('task timezone: offsets, UTC and IANA zones without DST (as their offset); a zone with DST is refused', () => {
  assert.deepEqual(taskZone(task('')), { session: '+00:00', offsetMinutes: 0 });
  assert.deepEqual(taskZone(task('+04:00')), { session: '+04:00', offsetMinutes: 240 });
  assert.deepEqual(taskZone(task('-5:30')), { session: '-05:30', offsetMinutes: -330 });
  assert.deepEqual(taskZone(task('Asia/Shanghai')), { session: '+08:00', offsetMinutes: 480 });
  assert.deepEqual(taskZone(task('Asia/Kolkata')), { session: '+05:30', offsetMinutes: 330 });
  assert.throws(() => taskZone(task('America/New_York')), /daylight saving time is not supported/);
  assert.throws(() => taskZone(task('Europe/Berlin')), /daylight saving time/);
});

test('namedZoneOffset: the offset of a zone without DST around now; undefined with DST or unknown', () => {
  const jan2027 = Date.UTC(2027, 0, 15);
  assert.equal(namedZoneOffset('Asia/Shanghai', jan2027), '+08:00');
  assert.equal(namedZoneOffset('Asia/Tokyo', jan2027), '+09:00');
  assert.equal(namedZoneOffset('UTC', jan2027), '+00:00');
  assert.equal(namedZoneOffset('America/Sao_Paulo', jan2027), '-03:00', 'Brazil dropped DST in 2019');
  assert.equal(namedZoneOffset('Europe/London', jan2027), undefined);
  assert.equal(namedZoneOffset('Australia/Sydney', jan2027), undefined);
  assert.equal(namedZoneOffset('Mars/Olympus', jan2027), undefined);
  assert.equal(namedZoneOffset("x'; DROP", jan2027), undefined);
});

test('task timezone: without `timezone`, a fixed-offset time_zone of target-database.session is the zone', () => {
  assert.deepEqual(taskZone(task('', { time_zone: '+8:00' })), { session: '+08:00', offsetMinutes: 480 });
  assert.deepEqual(taskZone(task('+01:00', { time_zone: '+08:00' })), { session: '+01:00', offsetMinutes: 60 });
  // A named zone without DST there is its offset; one with DST is not a fixed offset: UTC, and check-task warns
  // (session-vars planSession).
  assert.deepEqual(taskZone(task('', { time_zone: 'Asia/Shanghai' })), { session: '+08:00', offsetMinutes: 480 });
  assert.deepEqual(taskZone(task('', { time_zone: 'Europe/Paris' })), { session: '+00:00', offsetMinutes: 0 });
});

test('TIMESTAMP values move from UTC to the offset exactly, fractions and zero dates kept', () => {
  assert.equal(shiftTimestamp('2024-02-28 22:30:00.123456', 240), '2024-02-29 02:30:00.123456');
  assert.equal(shiftTimestamp('1970-01-01 00:00:01', -300), '1969-12-31 19:00:01');
  assert.equal(shiftTimestamp('0000-00-00 00:00:00', 240), '0000-00-00 00:00:00');
});
