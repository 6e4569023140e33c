import { Readable } from 'node:stream';
import type { RawRows } from '../db/mysql.ts';
import { shiftTimestamp } from '../db/timezone.ts';
import { field } from './infile.ts';

/**
 * A chunk's LOAD DATA file written straight from the bytes of the snapshot's rows (issue #14): the text protocol
 * already carries every value as the file wants it (numbers and dates as ASCII, text as utf8mb4, which the LOAD DATA
 * statement declares), so each value is copied with LOAD DATA's escapes and no JS string or value is built for it.
 * Reading rows as strings and writing them back as UTF-8 was most of the agent's CPU in a full load.
 *
 * The file holds, per value: `\N` for NULL; text with backslash, tab, newline, CR and NUL escaped (UTF-8
 * continuation bytes are >= 0x80, so no byte of a multi-byte character is ever taken for one of them); binary strings
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

/** Writes rows as lines of the file into pieces of about PIECE_BYTES. */
export class FileWriter {
  private buf = Buffer.allocUnsafe(PIECE_BYTES * 2);
  private off = 0;
  private readonly suffix: Buffer;
  private readonly anyShift: boolean;

  constructor(private readonly layout: FileLayout) {
    this.suffix = Buffer.from(layout.extra.map((v) => `\t${field(v)}`).join(''));
    this.anyShift = layout.shift.some(Boolean);
  }

  /** One row; returns a full piece when the row filled one. */
  row(vals: readonly (Buffer | null)[]): Buffer | undefined {
    const { hex, shift } = this.layout;
    // Upper bound of the line: hex doubles, escapes double; the separators and the line end.
    let need = this.suffix.length + vals.length + 1;
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      need += v ? v.length * 2 + 2 : 2;
    }
    let out: Buffer | undefined;
    if (this.off + need > this.buf.length) {
      out = this.take();
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
    }
    const buf = this.buf;
    let off = this.off;
    for (let i = 0; i < vals.length; i++) {
      if (i > 0) buf[off++] = TAB;
      const v = vals[i];
      if (v === null || v === undefined) {
        buf[off++] = BACKSLASH;
        buf[off++] = 0x4e; // N
      } else if (hex[i]) {
        for (let j = 0; j < v.length; j++) {
          const b = v[j]!;
          buf[off++] = HEX[b >> 4]!;
          buf[off++] = HEX[b & 15]!;
        }
      } else if (this.anyShift && shift[i]) {
        off += buf.write(shiftTimestamp(v.toString('latin1'), this.layout.offsetMinutes), off, 'latin1');
      } else {
        off = escapeInto(v, buf, off);
      }
    }
    if (this.suffix.length > 0) off += this.suffix.copy(buf, off);
    buf[off++] = LF;
    this.off = off;
    // A row that started a new piece stays in it: the next row or the end passes it on.
    return out ?? (off >= PIECE_BYTES ? this.take() : undefined);
  }

  /** The bytes written since the last piece, if any. */
  take(): Buffer | undefined {
    if (this.off === 0) return undefined;
    const piece = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(PIECE_BYTES * 2);
    this.off = 0;
    return piece;
  }
}

/** Copies `v` into `buf` at `off` with LOAD DATA's escapes; returns the new offset. */
function escapeInto(v: Buffer, buf: Buffer, off: number): number {
  let from = 0;
  for (let j = 0; j < v.length; j++) {
    const e = ESCAPE[v[j]!]!;
    if (e === 0) continue;
    off += v.copy(buf, off, from, j);
    buf[off++] = BACKSLASH;
    buf[off++] = e;
    from = j + 1;
  }
  // Short values by hand: Buffer.copy's native call costs more than copying a few bytes.
  const n = v.length - from;
  if (n > 32) return off + v.copy(buf, off, from);
  for (let j = from; j < v.length; j++) buf[off++] = v[j]!;
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
  read: (onRow: (row: (Buffer | null)[]) => void) => RawRows,
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
  rows = read((row) => {
    sent++;
    const piece = w.row(row);
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
