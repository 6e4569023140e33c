import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';

/**
 * A faster decode of MySQL latin1 text columns for zongji, exact by construction.
 *
 * zongji decodes every text column that is not utf8 through iconv-lite (`decodeTextColumn` in its lib/common.js),
 * and MySQL's latin1 is cp1252 there. iconv-lite's single-byte decoder allocates a UTF-16 buffer per value and then
 * a string from it, and looks its codec up by name each time: in a 100-row catch-up of a latin1 table (MariaDB's
 * default charset) that was ~10 % of the agent's CPU, plus the garbage.
 *
 * cp1252 maps bytes 0x00-0x7F and 0xA0-0xFF to the code points of the same value, like ISO-8859-1 (Node's 'latin1'),
 * and differs only in 0x80-0x9F (€, curly quotes, ...). So a value without a byte in 0x80-0x9F decodes with
 * `latin1Slice` to exactly the string iconv-lite returns; any other value, and every other encoding, still goes to
 * iconv-lite. (The decode options zongji passes, stripBOM: false, cannot matter: no single byte decodes to U+FEFF.)
 *
 * zongji's functions are ES module exports, which cannot be replaced; the iconv-lite module object it calls through
 * can. The copy patched is the one zongji resolves (mysql2 has its own), and the patch is installed once per process.
 */

interface IconvLite {
  decode(buf: Buffer | Uint8Array, encoding: string, options?: object): string;
}

/** Marks our wrapper, so a second install (tests, several readers) does not wrap it again. */
const PATCHED = Symbol.for('tsdm.fastLatin1Decode');

/** True when a cp1252 value decodes like ISO-8859-1: no byte in 0x80-0x9F. */
export function latin1Exact(buf: Uint8Array): boolean {
  if (isAscii(buf)) return true;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i]!;
    if (b >= 0x80 && b <= 0x9f) return false;
  }
  return true;
}

/** iconv-lite's decode with the exact cp1252 fast path in front of it. */
export function fastDecode(original: IconvLite['decode']): IconvLite['decode'] {
  const decode = function (this: unknown, buf: Buffer | Uint8Array, encoding: string, options?: object): string {
    if (encoding === 'cp1252' && Buffer.isBuffer(buf) && latin1Exact(buf)) return buf.toString('latin1');
    return original.call(this, buf, encoding, options);
  };
  (decode as unknown as Record<symbol, boolean>)[PATCHED] = true;
  return decode;
}

let iconv: IconvLite | undefined;
/** The iconv-lite module object zongji imports (resolved once: row-decode.ts asks per value it cannot decode exactly). */
export function zongjiIconv(): IconvLite {
  iconv ??= createRequire(import.meta.resolve('@vlasky/zongji'))('iconv-lite') as IconvLite;
  return iconv;
}

/** Installs the fast path into the iconv-lite zongji uses (idempotent). */
export function installFastTextDecode(): void {
  const iconv = zongjiIconv();
  if ((iconv.decode as unknown as Record<symbol, boolean>)[PATCHED]) return;
  iconv.decode = fastDecode(iconv.decode);
}
