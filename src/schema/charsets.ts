/**
 * Character sets and collations as MariaDB 10.11 knows them (information_schema.CHARACTER_SETS of 10.11.19):
 * the default collation of each charset and its maximum bytes per character. The schema tracker needs both:
 * the first to resolve `CHARACTER SET x` without COLLATE, the second to size TEXT(n), VARCHAR overflow and
 * `CONVERT TO CHARACTER SET` (where TEXT grows to MEDIUMTEXT).
 *
 * Names are case-insensitive and `utf8` means `utf8mb3` (MariaDB's default old_mode UTF8_IS_UTF8MB3).
 */

const CHARSETS: Record<string, readonly [defaultCollation: string, maxLen: number]> = {
  armscii8: ['armscii8_general_ci', 1],
  ascii: ['ascii_general_ci', 1],
  big5: ['big5_chinese_ci', 2],
  binary: ['binary', 1],
  cp1250: ['cp1250_general_ci', 1],
  cp1251: ['cp1251_general_ci', 1],
  cp1256: ['cp1256_general_ci', 1],
  cp1257: ['cp1257_general_ci', 1],
  cp850: ['cp850_general_ci', 1],
  cp852: ['cp852_general_ci', 1],
  cp866: ['cp866_general_ci', 1],
  cp932: ['cp932_japanese_ci', 2],
  dec8: ['dec8_swedish_ci', 1],
  eucjpms: ['eucjpms_japanese_ci', 3],
  euckr: ['euckr_korean_ci', 2],
  gb2312: ['gb2312_chinese_ci', 2],
  gbk: ['gbk_chinese_ci', 2],
  geostd8: ['geostd8_general_ci', 1],
  greek: ['greek_general_ci', 1],
  hebrew: ['hebrew_general_ci', 1],
  hp8: ['hp8_english_ci', 1],
  keybcs2: ['keybcs2_general_ci', 1],
  koi8r: ['koi8r_general_ci', 1],
  koi8u: ['koi8u_general_ci', 1],
  latin1: ['latin1_swedish_ci', 1],
  latin2: ['latin2_general_ci', 1],
  latin5: ['latin5_turkish_ci', 1],
  latin7: ['latin7_general_ci', 1],
  macce: ['macce_general_ci', 1],
  macroman: ['macroman_general_ci', 1],
  sjis: ['sjis_japanese_ci', 2],
  swe7: ['swe7_swedish_ci', 1],
  tis620: ['tis620_thai_ci', 1],
  ucs2: ['ucs2_general_ci', 2],
  ujis: ['ujis_japanese_ci', 3],
  utf16: ['utf16_general_ci', 4],
  utf16le: ['utf16le_general_ci', 4],
  utf32: ['utf32_general_ci', 4],
  utf8mb3: ['utf8mb3_general_ci', 3],
  utf8mb4: ['utf8mb4_general_ci', 4],
};

/** Longest names first, so `utf16le_bin` is not taken for a `utf16` collation. */
const BY_LENGTH = Object.keys(CHARSETS).sort((a, b) => b.length - a.length);

export class CharsetError extends Error {}

/** Canonical charset name (lower case, utf8 → utf8mb3); throws CharsetError for an unknown one. */
export function normalizeCharset(name: string): string {
  let n = name.toLowerCase();
  if (n === 'utf8') n = 'utf8mb3';
  if (!(n in CHARSETS)) throw new CharsetError(`unknown character set ${name}`);
  return n;
}

/** Canonical collation name (lower case, utf8_* → utf8mb3_*). Unknown collations of known charsets are accepted. */
export function normalizeCollation(name: string): string {
  let n = name.toLowerCase();
  if (n.startsWith('utf8_')) n = 'utf8mb3_' + n.slice(5);
  charsetOfCollation(n); // validates
  return n;
}

export function charsetOfCollation(collation: string): string {
  const c = collation.toLowerCase();
  if (c === 'binary') return 'binary';
  const cs = BY_LENGTH.find((x) => c.startsWith(x + '_'));
  if (cs === undefined) throw new CharsetError(`unknown collation ${collation}`);
  return cs;
}

export function defaultCollation(charset: string): string {
  return CHARSETS[normalizeCharset(charset)]![0];
}

/** The `_bin` collation the BINARY column attribute selects. */
export function binCollation(charset: string): string {
  const cs = normalizeCharset(charset);
  return cs === 'binary' ? 'binary' : `${cs}_bin`;
}

export function maxBytesPerChar(charset: string | null): number {
  if (charset === null) return 1;
  return CHARSETS[normalizeCharset(charset)]![1];
}
