/**
 * The status variables of a Query event (MySQL/MariaDB `log_event.h`, `Q_*` codes): the session settings the statement
 * ran under. tsdm reads one of them, as DM does (dm/pkg/binlog/event `GetServerCollationByStatusVars`): the
 * collation_server of the session, which a CREATE DATABASE without charset or collation took upstream.
 *
 * zongji hands the status variables over decoded as UTF-8 text: a byte that is not part of valid UTF-8 came back as
 * U+FFFD, its value lost, and U+FFFD may stand for up to 3 bytes. The text is read as a sequence of bytes, each U+FFFD
 * as one unknown byte, which is exact where the structure says what follows it: in Q_CHARSET_CODE, an id of 128..255
 * is a byte >= 0x80 followed by 0x00 (which ends any UTF-8 sequence), so it is one unknown byte. Clients connect with
 * ids >= 128 (utf8mb4_unicode_ci is 224: mysql2's default), so the client and connection ids are often unknown; the
 * server's is what is read. An unknown byte anywhere else before it, or an unknown server id, gives undefined (the
 * caller falls back).
 */

const Q_FLAGS2 = 0;
const Q_SQL_MODE = 1;
const Q_CATALOG = 2;
const Q_AUTO_INCREMENT = 3;
const Q_CHARSET = 4;
const Q_TIME_ZONE = 5;
const Q_CATALOG_NZ = 6;
const Q_LC_TIME_NAMES = 7;
const Q_CHARSET_DATABASE = 8;
const Q_TABLE_MAP_FOR_UPDATE = 9;

/** Fixed-length variables that may precede the charset code. */
const FIXED: Record<number, number> = {
  [Q_FLAGS2]: 4,
  [Q_SQL_MODE]: 8,
  [Q_AUTO_INCREMENT]: 4,
  [Q_LC_TIME_NAMES]: 2,
  [Q_CHARSET_DATABASE]: 2,
  [Q_TABLE_MAP_FOR_UPDATE]: 8,
};

/** The collation id of collation_server in a Query event's status variables (raw bytes, or zongji's text). */
export function serverCollationId(statusVars: Buffer | string | undefined): number | undefined {
  return charsetCodes(statusVars)?.server;
}

/**
 * Q_CHARSET_CODE of a Query event's status variables: the collation ids of character_set_client,
 * collation_connection and collation_server (each undefined when zongji's text lost it), or undefined when the
 * variables before it cannot be walked or it is absent. Exact from raw bytes (agent/binlog/query-text.ts).
 */
export function charsetCodes(
  statusVars: Buffer | string | undefined,
): { client?: number; connection?: number; server?: number } | undefined {
  if (statusVars === undefined) return undefined;
  const b = typeof statusVars === 'string' ? bytesOf(statusVars) : [...statusVars];
  const exact = (from: number, n: number) => from + n <= b.length && b.slice(from, from + n).every((x) => x !== null);
  let o = 0;
  while (o < b.length) {
    const code = b[o++];
    if (code === null || code === undefined) return undefined;
    if (code === Q_CHARSET) {
      // character_set_client, collation_connection, collation_server: 2 bytes each, little-endian. An unknown low byte
      // of the first two must be followed by 0x00 (see above), else the offsets cannot be trusted.
      if (o + 6 > b.length) return undefined;
      for (const k of [0, 2]) if (b[o + k] === null && b[o + k + 1] !== 0) return undefined;
      const id = (k: number) => {
        const lo = b[o + k];
        const hi = b[o + k + 1];
        return lo === null || hi === null || lo === undefined || hi === undefined ? undefined : lo + hi * 256;
      };
      const [client, connection, server] = [id(0), id(2), id(4)];
      return {
        ...(client !== undefined ? { client } : {}),
        ...(connection !== undefined ? { connection } : {}),
        ...(server !== undefined ? { server } : {}),
      };
    }
    const fixed = FIXED[code];
    let n: number;
    if (fixed !== undefined) n = fixed;
    else if (code === Q_CATALOG_NZ || code === Q_TIME_ZONE) n = 1 + (b[o] ?? 0);
    else if (code === Q_CATALOG) n = 1 + (b[o] ?? 0) + 1;
    else return undefined; // a variable this parser does not know: its length is unknown
    if (!exact(o, n)) return undefined;
    o += n;
  }
  return undefined;
}

/** zongji's text back to bytes: null for each U+FFFD (a byte that was not valid UTF-8). */
function bytesOf(text: string): (number | null)[] {
  const out: (number | null)[] = [];
  for (const ch of text) {
    if (ch === '\uFFFD') out.push(null);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return out;
}
