/**
 * start-task --start-time on MySQL: the GTID set at the found position, folded from the file's PREVIOUS_GTIDS event
 * and its GTID events (agent/binlog/mysql-gtid.ts). No MySQL server here: the event bodies are built as MySQL writes
 * them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MysqlGtidSet } from '../../agent/binlog/mysql-gtid.ts';

const U1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
const U2 = '0a2b3c4d-0000-11e1-9e33-c80aa9429562';
const uuidBytes = (u: string) => Buffer.from(u.replace(/-/g, ''), 'hex');
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

/** PREVIOUS_GTIDS body: per uuid its [start, end) intervals; a trailing checksum as the server sends it. */
function previous(sids: [string, [bigint, bigint][]][]): Buffer {
  const parts = [u64(BigInt(sids.length))];
  for (const [u, ivs] of sids) {
    parts.push(uuidBytes(u), u64(BigInt(ivs.length)));
    for (const [s, e] of ivs) parts.push(u64(s), u64(e));
  }
  return Buffer.concat([...parts, Buffer.alloc(4)]);
}

/** GTID_LOG_EVENT body: flags, uuid, gno, then fields the set does not need (logical clocks, checksum). */
function gtid(u: string, gno: bigint): Buffer {
  return Buffer.concat([Buffer.from([1]), uuidBytes(u), u64(gno), Buffer.alloc(21)]);
}

test("the file's previous set plus the GTID events before the position", () => {
  const s = new MysqlGtidSet();
  s.fromPrevious(
    previous([
      [U1, [[1n, 6n]]],
      [
        U2,
        [
          [1n, 3n],
          [7n, 8n],
        ],
      ],
    ]),
  );
  assert.equal(s.toString(), `${U2}:1-2:7,${U1}:1-5`);
  s.addEvent(gtid(U1, 6n));
  s.addEvent(gtid(U2, 3n));
  assert.equal(s.toString(), `${U2}:1-3:7,${U1}:1-6`, 'adjacent numbers merge');
  s.addEvent(gtid(U2, 5n));
  assert.equal(s.toString(), `${U2}:1-3:5:7,${U1}:1-6`);
});

test('GTID mode off: an empty previous set and no GTID event give no set', () => {
  const s = new MysqlGtidSet();
  s.fromPrevious(previous([]));
  assert.equal(s.toString(), '');
});
