import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { installQueryBytes, queryText } from '../../agent/binlog/query-text.ts';
import { charsetCodes, serverCollationId } from '../../agent/binlog/status-vars.ts';

const iconv = createRequire(import.meta.resolve('@vlasky/zongji'))('iconv-lite') as {
  encode(s: string, enc: string): Buffer;
};

// Q_FLAGS2 (4 bytes), then Q_CHARSET_CODE: client, connection, server (2 bytes each).
const vars = (client: number, server: number) =>
  Buffer.from([0, 0, 0, 0, 0, 4, client & 255, client >> 8, client & 255, client >> 8, server & 255, server >> 8]);

test("a Query event's statement is read in its client's character set", async () => {
  await installQueryBytes();
  const sql = "CREATE TABLE `表一` (c INT COMMENT '你好' DEFAULT 0)";
  const gbk = iconv.encode(sql, 'gbk');
  // What zongji hands over: the bytes decoded as UTF-8.
  const e = { query: gbk.toString('utf8'), queryBytes: gbk, statusVarsBytes: vars(28, 8) };
  assert.notEqual(e.query, sql);
  assert.equal(queryText(e), sql);
  // A UTF-8 client: zongji's text as it is; no bytes (an older event shape): the text.
  const utf8 = Buffer.from(sql);
  assert.equal(queryText({ query: sql, queryBytes: utf8, statusVarsBytes: vars(224, 8) }), sql);
  assert.equal(queryText({ query: 'x' }), 'x');
  // Big5 and latin1 (cp1252) clients.
  const big5 = "COMMENT '繁體'";
  assert.equal(queryText({ query: '?', queryBytes: iconv.encode(big5, 'big5'), statusVarsBytes: vars(1, 8) }), big5);
  const l1 = "DEFAULT 'café €'";
  assert.equal(queryText({ query: '?', queryBytes: iconv.encode(l1, 'cp1252'), statusVarsBytes: vars(8, 8) }), l1);
});

test('the charset ids of the status variables, from bytes exactly and from zongji text where it kept them', () => {
  assert.deepEqual(charsetCodes(vars(28, 33)), { client: 28, connection: 28, server: 33 });
  assert.equal(serverCollationId(vars(224, 46)), 46);
  // zongji's UTF-8 text of the same bytes: 224 is not valid UTF-8 there, the server id survives.
  assert.deepEqual(charsetCodes(vars(224, 46).toString('utf8')), { server: 46 });
  assert.equal(charsetCodes(Buffer.from([0, 0, 0, 0, 0])), undefined);
});
