import { Readable } from 'node:stream';
import type { RawRows } from '../db/raw-rows.ts';
import { shiftTimestamp } from '../db/timezone.ts';
import { field } from './infile.ts';

/**
 * A chunk's LOAD DATA file written straight from the bytes of the snapshot's rows (issue #14): the text protocol
 * already carries every value as the file wants it (numbers and dates as ASCII, text as utf8mb4 or, read as stored,
 * in each column's own charset: the LOAD DATA statement declares which, infile.ts asStored), so each value is copied
 * with LOAD DATA's escapes and no JS string or value is built for it. Reading rows as strings and writing them back
 * as UTF-8 was most of the agent's CPU in a full load.
 *
 * The file holds, per value: `\N` for NULL; text with backslash, tab, newline, CR and NUL escaped byte by byte (in
 * utf8mb4 no byte of a multi-byte character is below 0x80; in GBK, Big5 or Shift-JIS, whose trail bytes can be 0x5C,
 * the file is declared binary and the server reads it byte by byte too, so every byte comes back); binary strings
 * and BLOBs as their bytes with the same escapes (MariaDB and MySQL; hex on TiDB, chunk-read.ts); BIT and geometry as
 * hex (stored with UNHEX()); TIMESTAMPs moved to the task's zone; extended columns appended as constant fields.
 */
export interface FileLayout {
  /** Columns written as hex (BIT, geometry). */
  hex: readonly boolean[];
  /** TIMESTAMP columns moved from UTC to the task's zone (`offsetMinutes`). */
  shift: readonly boolean[];
  offsetMinutes: number;
  /** Values appended to every row (DM extended columns), as text. */
  extra: readonly string[];
}

/** Pieces of 48 KB in buffers of 96 KB: below glibc's 128 KB mmap threshold, so the buffers (and mysql2's copy of each
 * piece with its packet header) come from reused heap memory instead of fresh mmapped pages. 256 KB pieces cost the
 * agent a third more CPU in a full load, mostly page faults (16-17k per 1M rows against 11k). */
const PIECE_BYTES = 48 << 10;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
/** Byte -> the byte after a backslash, for the five bytes LOAD DATA's ESCAPED BY '\\' needs escaped; 0 elsewhere. */
const ESCAPE = new Uint8Array(256);
ESCAPE[0] = 0x30; // \0
ESCAPE[TAB] = 0x74; // \t
ESCAPE[LF] = 0x6e; // \n
ESCAPE[CR] = 0x72; // \r
ESCAPE[BACKSLASH] = BACKSLASH;
const HEX = Buffer.from('0123456789abcdef');

/** Piece buffers whose bytes the downstream connection has copied (releasePiece), for the next pieces: fewer fresh
 * external buffers, fewer garbage collections forced by external memory. */
const spare: ArrayBuffer[] = [];
const SPARE_MAX = 32;

function pieceBuffer(): Buffer {
  const ab = spare.pop();
  return ab ? Buffer.from(ab) : Buffer.allocUnsafe(PIECE_BYTES * 2);
}

/** A piece the consumer is done with (mysql2 copied it into its packet): its buffer is reused. */
export function releasePiece(piece: Buffer): void {
  if (piece.byteOffset === 0 && piece.buffer.byteLength === PIECE_BYTES * 2 && spare.length < SPARE_MAX)
    spare.push(piece.buffer as ArrayBuffer);
}

/** Writes rows as lines of the file into pieces of about PIECE_BYTES. */
export class FileWriter {
  private buf = pieceBuffer();
  private off = 0;
  private readonly suffix: Buffer;
  private readonly anyShift: boolean;

  constructor(private readonly layout: FileLayout) {
    this.suffix = Buffer.from(layout.extra.map((v) => `\t${field(v)}`).join(''));
    this.anyShift = layout.shift.some(Boolean);
  }

  /**
   * One row as the text protocol's row packet carries it (`src[start, end)`: per column a length-encoded string, 0xfb
   * for NULL), written without a Buffer or an array per row or value: in a full load the views mysql2 makes of every
   * value were a fifth of the agent's CPU with their garbage (bench/README.md).
   */
  packet(src: Buffer, start: number, end: number, columns: number): Buffer | undefined {
    // Each value takes at least its length byte in the packet and at most twice its bytes plus a tab in the file;
    // a NULL (one byte) takes two.
    const out = this.room(this.suffix.length + columns + 1 + 2 * (end - start));
    let p = start;
    for (let i = 0; i < columns; i++) {
      if (i > 0) this.buf[this.off++] = TAB;
      const b = src[p++]!;
      if (b === 0xfb) {
        this.value(i, null, 0, 0);
        continue;
      }
      let len = b;
      if (b === 0xfc) {
        len = src.readUInt16LE(p);
        p += 2;
      } else if (b === 0xfd) {
        len = src.readUIntLE(p, 3);
        p += 3;
      } else if (b === 0xfe) {
        len = Number(src.readBigUInt64LE(p));
        p += 8;
      }
      if (p + len > end) throw new Error('row packet shorter than its values');
      this.value(i, src, p, p + len);
      p += len;
    }
    return this.end(out);
  }

  /** Makes room for a line of at most `need` bytes; returns the full piece it had to pass on, if any. */
  private room(need: number): Buffer | undefined {
    if (this.off + need <= this.buf.length) return undefined;
    const out = this.take();
    if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    return out;
  }

  /** Column `i`'s value `v[s, e)` (null: NULL) as a field. */
  private value(i: number, v: Buffer | null, s: number, e: number): void {
    const buf = this.buf;
    let off = this.off;
    if (v === null) {
      buf[off++] = BACKSLASH;
      buf[off++] = 0x4e; // N
    } else if (this.layout.hex[i]) {
      for (let j = s; j < e; j++) {
        const b = v[j]!;
        buf[off++] = HEX[b >> 4]!;
        buf[off++] = HEX[b & 15]!;
      }
    } else if (this.anyShift && this.layout.shift[i]) {
      off += buf.write(shiftTimestamp(v.toString('latin1', s, e), this.layout.offsetMinutes), off, 'latin1');
    } else {
      off = escapeInto(v, s, e, buf, off);
    }
    this.off = off;
  }

  /** Ends the line; returns the piece to pass on (the one `room` took, or this one when it is full). */
  private end(out: Buffer | undefined): Buffer | undefined {
    if (this.suffix.length > 0) this.off += this.suffix.copy(this.buf, this.off);
    this.buf[this.off++] = LF;
    // A row that started a new piece stays in it: the next row or the end passes it on.
    return out ?? (this.off >= PIECE_BYTES ? this.take() : undefined);
  }

  /** The bytes written since the last piece, if any. */
  take(): Buffer | undefined {
    if (this.off === 0) return undefined;
    const piece = this.buf.subarray(0, this.off);
    this.buf = pieceBuffer();
    this.off = 0;
    return piece;
  }
}

/** Copies `v[s, e)` into `buf` at `off` with LOAD DATA's escapes; returns the new offset. */
function escapeInto(v: Buffer, s: number, e: number, buf: Buffer, off: number): number {
  // Short values (most: numbers, dates, names) in one pass, copied byte by byte as they are checked: Buffer.copy's
  // native call costs more than copying a few bytes, and a scan followed by a copy reads each byte twice.
  if (e - s <= 32) {
    for (let j = s; j < e; j++) {
      const b = v[j]!;
      const x = ESCAPE[b]!;
      if (x === 0) buf[off++] = b;
      else {
        buf[off++] = BACKSLASH;
        buf[off++] = x;
      }
    }
    return off;
  }
  let from = s;
  for (let j = s; j < e; j++) {
    const x = ESCAPE[v[j]!]!;
    if (x === 0) continue;
    off += v.copy(buf, off, from, j);
    buf[off++] = BACKSLASH;
    buf[off++] = x;
    from = j + 1;
  }
  // A short tail by hand, for the same reason.
  const n = e - from;
  if (n > 32) return off + v.copy(buf, off, from, e);
  for (let j = from; j < e; j++) buf[off++] = v[j]!;
  return off;
}

/** The file of a chunk as a byte stream, and how many rows it held. */
export interface ChunkFile {
  stream: Readable;
  sent(): number;
}

/**
 * The file streamed from `read` (rawRows over the chunk's SELECT): rows are written as they arrive, pieces pushed as
 * they fill, and the upstream read paused while the stream holds more than it can pass on. An upstream error
 * destroys the stream with `classify(err)`; a consumer that destroys the stream stops the read (the remaining rows
 * are read and dropped, so the snapshot connection is free for the next chunk).
 */
export function chunkFile(
  read: (onRow: (src: Buffer, start: number, end: number, columns: number) => void) => RawRows,
  layout: FileLayout,
  classify: (err: unknown) => Error,
): ChunkFile {
  const w = new FileWriter(layout);
  let sent = 0;
  let rows: RawRows | undefined;
  const stream = new Readable({
    highWaterMark: PIECE_BYTES * 4,
    read() {
      rows?.resume();
    },
    destroy(err, cb) {
      rows?.stop();
      cb(err);
    },
  });
  rows = read((src, start, end, columns) => {
    sent++;
    const piece = w.packet(src, start, end, columns);
    if (piece && !stream.destroyed && !stream.push(piece)) rows?.pause();
  });
  rows.done.then(
    () => {
      if (stream.destroyed) return;
      const last = w.take();
      if (last) stream.push(last);
      stream.push(null);
    },
    (err: unknown) => {
      if (!stream.destroyed) stream.destroy(classify(err));
    },
  );
  return { stream, sent: () => sent };
}
