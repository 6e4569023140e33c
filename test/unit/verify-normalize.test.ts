/**
 * Invariant protected (agent/verify/normalize.ts): check-data counts only real differences. Two renderings of one
 * value are equal (DECIMAL trailing zeros, DATETIME/TIME fraction zeros, JSON key order, FLOAT text forms, BIT width);
 * everything a DBA would call a different value differs ('a' vs 'A', trailing spaces in VARCHAR, NULL vs '', 0x00 vs
 * '', a trailing 0x00, one microsecond, the last unit of a BIGINT UNSIGNED).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonical,
  canonicalDecimal,
  canonicalTemporal,
  display,
  kindOf,
  parseDisplayed,
  unixToUtcText,
  utcTextToUnix,
  type ValueKind,
} from '../../agent/verify/normalize.ts';

const same = (k: ValueKind, a: string | Buffer | null, b: string | Buffer | null) =>
  assert.equal(canonical(k, a), canonical(k, b), `${k}: ${String(a)} = ${String(b)}`);
const differ = (k: ValueKind, a: string | Buffer | null, b: string | Buffer | null) =>
  assert.notEqual(canonical(k, a), canonical(k, b), `${k}: ${String(a)} != ${String(b)}`);

test('numbers: exact decimal text, trailing zeros and signs do not count, the last digit does', () => {
  assert.equal(canonicalDecimal('-0012.3400'), '-12.34');
  assert.equal(canonicalDecimal('-0.000'), '0');
  assert.equal(canonicalDecimal('+5.'), '5');
  same('number', '1.50', '1.5');
  same('number', '0.00', '-0');
  differ('number', '18446744073709551615', '18446744073709551614');
  differ(
    'number',
    '99999999999999999999999999999999999.000000000000000000000000000001',
    '99999999999999999999999999999999999',
  );
  same('float', '3.40282e38', '340282000000000000000000000000000000000');
  same('float', '-0', '0');
  differ('float', '1.5', '1.50001');
});

test('temporal: fraction zeros do not count, a microsecond does; TIMESTAMP instants as UTC text', () => {
  assert.equal(canonicalTemporal('12:00:00.500000'), '12:00:00.5');
  assert.equal(canonicalTemporal('2024-01-01 00:00:00.000'), '2024-01-01 00:00:00');
  same('temporal', '-838:59:59.000000', '-838:59:59');
  differ('temporal', '-838:59:59.999999', '-838:59:59.999998');
  same('unix', '1700000000.000000', '1700000000');
  differ('unix', '1700000000.000001', '1700000000');
  assert.equal(unixToUtcText('2147483647.999999'), '2038-01-19 03:14:07.999999');
  assert.equal(unixToUtcText('0.000'), '0000-00-00 00:00:00');
  assert.equal(utcTextToUnix('2038-01-19 03:14:07.999999'), '2147483647.999999');
  assert.equal(utcTextToUnix('0000-00-00 00:00:00'), '0');
  assert.equal(parseDisplayed('unix', false, display('unix', false, '1600000000.123')), '1600000000.123');
});

test('strings and bytes: exact, NULL is not empty', () => {
  differ('text', 'a', 'A');
  differ('text', 'x', 'x ');
  differ('text', '', null);
  same('text', '😀', Buffer.from('😀'));
  differ('bytes', Buffer.from([0]), Buffer.alloc(0));
  differ('bytes', Buffer.from([1, 0]), Buffer.from([1]));
  same('bit', Buffer.from([0, 1]), Buffer.from([1]));
  differ('bit', Buffer.from([1, 0]), Buffer.from([1]));
  same('json', '{"a": 1, "b": [1, 2.50]}', '{"b":[1,2.5],"a":1}');
  differ('json', '{"a": "1"}', '{"a": 1}');
  differ('json', '[1, 2]', '[2, 1]');
  same('json', 'not json', 'not json');
  same('json', '{"n": 1e2, "m": 25e-1, "z": -0}', '{"z":0,"m":2.50,"n":100}');
  differ('json', '{"id": 12345678901234567890}', '{"id": 12345678901234567891}');
  same('json', '{"s": "\\u00e9\\n"}', '{"s":"é\\n"}');
  same('json', ' [ true , null , { } , [ ] ] ', '[true,null,{},[]]');
  differ('json', '{"a": 1} x', '{"a": 1}');
});

test('kinds from both sides; display cuts long values and shows bytes as hex', () => {
  assert.equal(kindOf('decimal', ['decimal']), 'number');
  assert.equal(kindOf('decimal', ['float']), 'float');
  assert.equal(kindOf('timestamp', ['timestamp', 'timestamp']), 'unix');
  assert.equal(kindOf('timestamp', ['datetime']), 'temporal');
  assert.equal(kindOf('varbinary', ['varbinary']), 'bytes');
  assert.equal(kindOf('bit', ['bit']), 'bit');
  assert.equal(kindOf('enum', ['enum']), 'text');
  assert.equal(display('bytes', true, Buffer.from([0, 255])), '0x00ff');
  assert.equal(display('text', false, 'x'.repeat(300))!.length, 256);
  assert.equal(display('text', false, 'x'.repeat(300), false)!.length, 300);
  assert.deepEqual(parseDisplayed('bytes', true, '0x00ff'), Buffer.from([0, 255]));
});
