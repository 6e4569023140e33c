/**
 * Invariant protected (agent/binlog/text-decode.ts): the latin1 fast path returns exactly what iconv-lite's cp1252
 * decoder returns (MySQL latin1 is cp1252: 0x80-0x9F are €, curly quotes... not C1 controls), for every byte value;
 * it is installed into the iconv-lite object zongji decodes text columns through, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fastDecode, installFastTextDecode, latin1Exact, zongjiIconv } from '../../agent/binlog/text-decode.ts';
import { prng } from '../harness/prng.ts';

const iconv = zongjiIconv();
const original = iconv.decode;
const fast = fastDecode(original);
const opts = { stripBOM: false };

test('every byte value, alone and between ASCII, decodes as iconv-lite cp1252 does', () => {
  for (let b = 0; b < 256; b++) {
    for (const buf of [Buffer.from([b]), Buffer.from([0x41, b, 0x7a]), Buffer.from([0xe9, b])]) {
      assert.equal(fast(buf, 'cp1252', opts), original(buf, 'cp1252', opts), `byte 0x${b.toString(16)}`);
    }
  }
  assert.equal(fast(Buffer.from([0x80]), 'cp1252', opts), '€');
  assert.equal(fast(Buffer.from([0x93, 0x94]), 'cp1252', opts), '“”');
  assert.equal(fast(Buffer.alloc(0), 'cp1252', opts), '');
});

test('random buffers decode as iconv-lite cp1252 does; other encodings are passed through', () => {
  const rnd = prng(7);
  for (let i = 0; i < 2000; i++) {
    const n = Math.floor(rnd() * 40);
    // Half of them without 0x80-0x9F (the fast path), half with any byte.
    const buf = Buffer.from(
      Array.from({ length: n }, () => {
        const b = Math.floor(rnd() * 256);
        return i % 2 === 0 && b >= 0x80 && b <= 0x9f ? b + 0x20 : b;
      }),
    );
    assert.equal(fast(buf, 'cp1252', opts), original(buf, 'cp1252', opts));
    assert.equal(latin1Exact(buf), !buf.some((b) => b >= 0x80 && b <= 0x9f));
    for (const enc of ['latin2', 'cp1251', 'koi8-r'])
      assert.equal(fast(buf, enc, opts), original(buf, enc, opts), `${enc} ${buf.toString('hex')}`);
  }
});

test('installed once into the iconv-lite zongji uses', () => {
  installFastTextDecode();
  const once = iconv.decode;
  installFastTextDecode();
  assert.equal(iconv.decode, once);
  assert.notEqual(once, original);
  assert.equal(iconv.decode(Buffer.from([0x41, 0x80, 0xe9]), 'cp1252', opts), 'A€é');
});
