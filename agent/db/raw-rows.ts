import type { Connection } from 'mysql2/promise';
import type { Connection as CoreConnection } from 'mysql2';

/** A result set read as the server sent it, row by row: see rawRows. */
export interface RawRows {
  /** Stops reading from the socket (the server waits) until resume(). */
  pause(): void;
  resume(): void;
  /** The consumer gave up: the remaining rows are read and dropped, so the connection is free for its next query. */
  stop(): void;
  /** Resolves after the last row; rejects with mysql2's error (classify it with classifyMysqlError). */
  done: Promise<void>;
}

/** mysql2's command state function: the next state for the next packet (mysql2/lib/commands/command.js). */
type QueryState = (this: QueryInternals, packet: RowPacket, connection: unknown) => QueryState | null;
/** What rawRows uses of mysql2's Query and Packet (lib/commands/query.js, lib/packets/packet.js; not typed by mysql2). */
interface QueryInternals {
  row: QueryState;
  _fieldCount: number;
}
interface RowPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

/** The callback connection under mysql2's promise wrapper, which has no streaming API (typed in mysql2 core). */
export function coreConnection(conn: Connection): CoreConnection {
  return (conn as unknown as { connection: CoreConnection }).connection;
}

/**
 * Reads a result set without converting a single value or making an object per row: each row goes to `onRow` as the
 * text protocol's row packet, `src[start, end)`, `columns` length-encoded strings (0xfb for NULL) — numbers and dates
 * as ASCII, text in the connection's utf8mb4 (or, with `asStored`, in each column's own charset), binary columns as
 * stored. `onRow` runs synchronously as rows arrive and must copy what it keeps. This is the cheap way to pass rows on
 * as bytes (the load's LOAD DATA file, agent/load/transcode.ts). mysql2 has no API for it: the query's row state is
 * replaced on this one query, and hands the end of the result set back to mysql2's own.
 */
export function rawRows(
  conn: Connection,
  sql: string,
  params: unknown[],
  onRow: (src: Buffer, start: number, end: number, columns: number) => void,
  opts: { asStored?: boolean } = {},
): RawRows {
  const core = coreConnection(conn);
  let stopped = false;
  let paused = false;
  let failed: unknown;
  // `asStored`: values in their columns' own charsets, as stored (character_set_results = binary for this one query,
  // restored after it; mysql2 runs a connection's commands in order, so nothing else runs in between). The saved value
  // is never NULL ('binary' means the same) and is cleared by the restore, so a save that failed leaves the restore
  // nothing to apply and the session as it was.
  if (opts.asStored) {
    const save =
      "SET @tsdm_csr = IFNULL(@@SESSION.character_set_results, 'binary'), SESSION character_set_results = binary";
    core.query(save, (err) => {
      if (!err) return;
      failed ??= err; // the rows that follow would be in the wrong charset: dropped, and the query fails
      stopped = true;
    });
  }
  const q = core.query({ sql, values: params });
  const restored: Promise<void> = opts.asStored
    ? new Promise((resolve, reject) =>
        core.query(
          'SET SESSION character_set_results = IFNULL(@tsdm_csr, @@SESSION.character_set_results), @tsdm_csr = NULL',
          (err) => (err ? reject(err) : resolve()),
        ),
      )
    : Promise.resolve();
  restored.catch(() => undefined);
  const internals = q as unknown as QueryInternals;
  const ownRow = internals.row;
  const row: QueryState = function (this: QueryInternals, packet, connection) {
    if (packet.isEOF()) return ownRow.call(this, packet, connection);
    if (!stopped) {
      try {
        onRow(packet.buffer, packet.offset, packet.end, this._fieldCount);
      } catch (err) {
        // The rest of the result set is read and dropped; the query then fails with this error.
        failed ??= err;
        stopped = true;
      }
    }
    return row;
  };
  internals.row = row;
  const read = new Promise<void>((resolve, reject) => {
    q.on('error', reject);
    q.on('end', () => (failed === undefined ? resolve() : reject(failed)));
  });
  // Done once the connection is as it was (the restore follows the SELECT, whatever became of it).
  const done = read.then(
    () => restored,
    (err: unknown) =>
      restored.then(
        () => Promise.reject(err),
        () => Promise.reject(err),
      ),
  );
  return {
    pause() {
      if (stopped || paused) return;
      paused = true;
      core.pause();
    },
    resume() {
      if (!paused) return;
      paused = false;
      core.resume();
    },
    stop() {
      stopped = true;
      if (paused) {
        paused = false;
        core.resume();
      }
    },
    done,
  };
}
