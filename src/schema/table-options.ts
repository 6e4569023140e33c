import { charsetOfCollation, defaultCollation, normalizeCharset, normalizeCollation } from './charsets.ts';
import type { CharsetDefault } from './column-def.ts';
import { Cursor, Unsupported } from './cursor.ts';

/** The table options the model needs; every other option is read and ignored. */
export interface TableOptions {
  /** As written: a charset name or `DEFAULT`. */
  charset?: string;
  collate?: string;
}

/** Options that change nothing the model holds (MariaDB 10.11 and MySQL 8 table options, ALTER's ALGORITHM/LOCK). */
const IGNORED = new Set([
  'ENGINE',
  'TYPE',
  'AUTO_INCREMENT',
  'AVG_ROW_LENGTH',
  'CHECKSUM',
  'TABLE_CHECKSUM',
  'COMMENT',
  'CONNECTION',
  'DELAY_KEY_WRITE',
  'ENCRYPTED',
  'ENCRYPTION_KEY_ID',
  'IETF_QUOTES',
  'INSERT_METHOD',
  'KEY_BLOCK_SIZE',
  'MAX_ROWS',
  'MIN_ROWS',
  'PACK_KEYS',
  'PAGE_CHECKSUM',
  'PAGE_COMPRESSED',
  'PAGE_COMPRESSION_LEVEL',
  'PASSWORD',
  'ROW_FORMAT',
  'STATS_AUTO_RECALC',
  'STATS_PERSISTENT',
  'STATS_SAMPLE_PAGES',
  'TABLESPACE',
  'TRANSACTIONAL',
  'UNION',
  'ALGORITHM',
  'LOCK',
  'COMPRESSION',
  'ENCRYPTION',
  'AUTOEXTEND_SIZE',
  'SECONDARY_ENGINE',
  'ENGINE_ATTRIBUTE',
  'SECONDARY_ENGINE_ATTRIBUTE',
  'STORAGE',
]);

/**
 * Reads table options (space- or comma-separated) into `out` until a token that is not one; the caller decides
 * whether what follows is allowed. WITH SYSTEM VERSIONING and SEQUENCE=1 change the columns: Unsupported.
 */
export function readTableOptions(c: Cursor, out: TableOptions): void {
  for (;;) {
    const start = c.i;
    c.op(',');
    const dflt = c.kw('DEFAULT');
    if (c.kw('CHARACTER', 'SET') || c.kw('CHARSET') || c.kw('CHAR', 'SET')) {
      c.op('=');
      out.charset = c.stringOrName();
    } else if (c.kw('COLLATE')) {
      c.op('=');
      out.collate = c.stringOrName();
    } else if (dflt) {
      throw new Unsupported(`table option DEFAULT ${c.where()} is not modelled`);
    } else if (c.kw('WITH', 'SYSTEM', 'VERSIONING')) {
      throw new Unsupported('system-versioned tables are not modelled');
    } else if (c.kw('SEQUENCE')) {
      c.op('=');
      const v = c.next();
      if (v.text !== '0' && v.upper !== 'NO') throw new Unsupported('sequences (SEQUENCE=1) are not modelled');
    } else if (c.kw('DATA', 'DIRECTORY') || c.kw('INDEX', 'DIRECTORY') || c.kwAny(...IGNORED)) {
      c.op('=');
      c.skipValue();
    } else if (c.peek()?.type === 'word' && c.isOp('=', 1)) {
      c.i += 2; // engine-defined option `name = value`
      c.skipValue();
    } else {
      c.i = start;
      return;
    }
  }
}

/**
 * Table charset options over `base`: CHARSET alone takes the charset's default collation, COLLATE alone implies
 * its charset, `DEFAULT` as a value means the database's.
 */
export function resolveTableCharset(o: TableOptions, base: CharsetDefault, dbDefault: CharsetDefault): CharsetDefault {
  const isDefault = (v: string | undefined): boolean => v !== undefined && v.toUpperCase() === 'DEFAULT';
  if (o.collate !== undefined && !isDefault(o.collate)) {
    const collation = normalizeCollation(o.collate);
    return { charset: charsetOfCollation(collation), collation };
  }
  if (o.charset === undefined) return isDefault(o.collate) ? dbDefault : base;
  if (isDefault(o.charset)) return dbDefault;
  const charset = normalizeCharset(o.charset);
  return { charset, collation: defaultCollation(charset) };
}
