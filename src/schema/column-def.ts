import {
  binCollation,
  charsetOfCollation,
  defaultCollation,
  maxBytesPerChar,
  normalizeCharset,
  normalizeCollation,
} from './charsets.ts';
import type { Token } from '../sql/lexer.ts';
import { Cursor, ParseError, Unsupported } from './cursor.ts';
import { defaultFromTokens } from './default-value.ts';
import { formatEnumType } from './enum-members.ts';
import { dataTypeOf, type IndexSpec, type TrackedColumn } from './model.ts';

/**
 * Column definitions: reading `name type attributes...` and turning it into the COLUMN_TYPE, nullability and
 * character set MariaDB 10.11 gives the column (checked against the server by the oracle test). Rules, measured:
 * - integer display widths default by type and signedness (int → int(11), int unsigned → int(10) unsigned);
 *   ZEROFILL implies UNSIGNED; BOOL is tinyint(1); SERIAL is bigint(20) unsigned NOT NULL AUTO_INCREMENT UNIQUE.
 * - DECIMAL defaults to (10,0); FLOAT(p) is float for p ≤ 24 and double above; REAL is double.
 * - a string column takes its charset from CHARACTER SET, else from COLLATE, else the table default; its collation
 *   from COLLATE, else `<cs>_bin` with the BINARY attribute, else the charset's default when the charset was given,
 *   else the table's collation. NATIONAL is utf8mb3, ASCII is latin1, UNICODE is ucs2, BYTE is binary.
 * - with charset binary CHAR/VARCHAR/TEXT become BINARY/VARBINARY/BLOB (charset NULL); ENUM/SET keep charset
 *   and collation `binary`.
 * - TEXT(n)/BLOB(n) pick the smallest type holding n characters; a VARCHAR over 65535 bytes becomes TEXT (MariaDB
 *   does this only outside strict mode, but a statement found in the binlog did succeed).
 * - AUTO_INCREMENT and PRIMARY KEY imply NOT NULL unless NULL is explicit (PRIMARY KEY: always), and so does
 *   TIMESTAMP when explicit_defaults_for_timestamp is OFF (not for generated columns); JSON is
 *   longtext utf8mb4_bin whatever the table charset; ENUM/SET members lose trailing spaces.
 */

export interface TypeSpec {
  /** Canonical base type: int, varchar, text, blob, enum, float, ... */
  base: string;
  len?: number;
  dec?: number;
  members?: string[];
  unsigned: boolean;
  zerofill: boolean;
  /** Explicit character set (CHARACTER SET, NATIONAL, ASCII, UNICODE, BYTE). */
  charset?: string;
  collate?: string;
  binaryAttr: boolean;
  /** MariaDB COMPRESSED columns: COLUMN_TYPE ends with ` /*M!100301 COMPRESSED*\/`. */
  compressed?: boolean;
}

export type Position = { first: true } | { after: string };

export interface ColumnSpec {
  name: string;
  type: TypeSpec;
  /** true: NOT NULL; false: NULL; undefined: not said. */
  notNull?: boolean;
  autoIncrement: boolean;
  generated: boolean;
  /** A generated column's expression (the text between its parentheses) and storage. */
  generation?: { expr: string; stored: boolean };
  /** An explicit DEFAULT clause (DEFAULT NULL included). */
  explicitDefault?: boolean;
  primary: boolean;
  unique: boolean;
  /** Inline `[CONSTRAINT name] REFERENCES t (c)`: a foreign key since MariaDB 10.5, so an implicit index. */
  foreignKeys: { constraint?: string }[];
  comment: string;
  position?: Position;
  /** The DEFAULT (default-value.ts canonical form); absent for none or NULL. */
  default?: string;
  /** ON UPDATE was given. */
  onUpdate?: true;
}

export interface CharsetDefault {
  charset: string;
  collation: string;
}

/** Server settings that change column definitions. */
export interface ColumnRules {
  /**
   * @@explicit_defaults_for_timestamp (ON by default since MariaDB 10.10, OFF before): when OFF, a TIMESTAMP
   * column that does not say NULL is NOT NULL.
   */
  explicitDefaultsForTimestamp: boolean;
}

const INT_WIDTH: Record<string, [signed: number, unsigned: number]> = {
  tinyint: [4, 3],
  smallint: [6, 5],
  mediumint: [9, 8],
  int: [11, 10],
  bigint: [20, 20],
};
const TEXTS = ['tinytext', 'text', 'mediumtext', 'longtext'];
const BLOBS = ['tinyblob', 'blob', 'mediumblob', 'longblob'];
const LOB_BYTES = [255, 65535, 16777215, 4294967295];
const MAX_VARCHAR_BYTES = 65535;
const COMPRESSED = ' /*M!100301 COMPRESSED*/';

const SIMPLE_TYPES = new Set([
  'bit',
  'year',
  'date',
  'time',
  'datetime',
  'timestamp',
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'enum',
  'set',
  'json',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'uuid',
  'inet4',
  'inet6',
  'decimal',
  'float',
  'double',
  'char',
  'varchar',
  'tinyint',
  'smallint',
  'mediumint',
  'int',
  'bigint',
]);
const SYNONYMS: Record<string, string> = {
  INT1: 'tinyint',
  INT2: 'smallint',
  INT3: 'mediumint',
  MIDDLEINT: 'mediumint',
  INTEGER: 'int',
  INT4: 'int',
  INT8: 'bigint',
  DEC: 'decimal',
  NUMERIC: 'decimal',
  FIXED: 'decimal',
  REAL: 'double',
  FLOAT8: 'double',
  FLOAT4: 'float',
  VARCHARACTER: 'varchar',
  CHARACTER: 'char',
};

/** Index of the smallest TEXT/BLOB type that holds `bytes`. */
function lobIndex(bytes: number): number {
  return LOB_BYTES.findIndex((max) => bytes <= max);
}

function parseType(c: Cursor): { type: TypeSpec; serial: boolean } {
  const head = c.next();
  if (head.type !== 'word') throw new ParseError(`expected a data type at \`${head.text}\``);
  const type: TypeSpec = { base: '', unsigned: false, zerofill: false, binaryAttr: false };
  let serial = false;
  const w = head.upper;
  if (w === 'NATIONAL' || w === 'NCHAR' || w === 'NVARCHAR') {
    type.charset = 'utf8mb3';
    if (w === 'NVARCHAR') type.base = 'varchar';
    else if (w === 'NATIONAL' && c.kwAny('VARCHAR', 'VARCHARACTER')) type.base = 'varchar';
    else {
      if (w === 'NATIONAL' && !c.kwAny('CHAR', 'CHARACTER'))
        throw new ParseError(`expected CHAR or VARCHAR after NATIONAL ${c.where()}`);
      type.base = c.kwAny('VARYING', 'VARCHAR', 'VARCHARACTER') ? 'varchar' : 'char';
    }
  } else if (w === 'CHAR' || w === 'CHARACTER') {
    type.base = c.kw('VARYING') ? 'varchar' : 'char';
  } else if (w === 'LONG') {
    if (c.kw('VARBINARY')) type.base = 'mediumblob';
    else {
      c.kwAny('VARCHAR', 'VARCHARACTER');
      type.base = 'mediumtext';
    }
  } else if (w === 'DOUBLE') {
    c.kw('PRECISION');
    type.base = 'double';
  } else if (w === 'BOOL' || w === 'BOOLEAN') {
    type.base = 'tinyint';
    type.len = 1;
  } else if (w === 'SERIAL') {
    type.base = 'bigint';
    type.unsigned = true;
    serial = true;
  } else {
    type.base = SYNONYMS[w] ?? head.value.toLowerCase();
    if (!SIMPLE_TYPES.has(type.base)) throw new Unsupported(`data type ${head.text} is not modelled`);
  }
  if (c.isOp('(')) {
    c.next();
    if (type.base === 'enum' || type.base === 'set') {
      type.members = [];
      do type.members.push(c.stringOrName().replace(/ +$/, ''));
      while (c.op(','));
    } else {
      type.len = c.number();
      if (c.op(',')) type.dec = c.number();
    }
    c.mustOp(')');
  }
  return { type, serial };
}

/** Reads one column definition, from its name to the end of the cursor. `inlineKeys` collects PRIMARY/UNIQUE. */
export function parseColumnDef(c: Cursor): ColumnSpec {
  const name = c.ident();
  const { type, serial } = parseType(c);
  const spec: ColumnSpec = {
    name,
    type,
    autoIncrement: serial,
    generated: false,
    primary: false,
    unique: serial,
    foreignKeys: [],
    comment: '',
  };
  if (serial) spec.notNull = true;
  while (!c.atEnd()) {
    if (c.kw('NOT', 'NULL')) spec.notNull = true;
    else if (c.kw('NULL')) spec.notNull = false;
    else if (c.kw('UNSIGNED')) type.unsigned = true;
    else if (c.kw('SIGNED')) {
      /* default */
    } else if (c.kw('ZEROFILL')) {
      type.zerofill = true;
      type.unsigned = true;
    } else if (c.kw('BINARY')) type.binaryAttr = true;
    else if (c.kw('ASCII')) type.charset = 'latin1';
    else if (c.kw('UNICODE')) type.charset = 'ucs2';
    else if (c.kw('BYTE')) type.charset = 'binary';
    else if (c.kw('CHARACTER', 'SET') || c.kw('CHARSET') || c.kw('CHAR', 'SET')) type.charset = c.stringOrName();
    else if (c.kw('COLLATE')) type.collate = c.stringOrName();
    else if (c.kw('DEFAULT')) {
      spec.explicitDefault = true;
      const from = c.i;
      if (c.kw('NEXT', 'VALUE', 'FOR')) c.qualifiedName();
      else c.skipValue();
      const d = defaultFromTokens(c.t, from, c.i, type.base);
      if (d === undefined) delete spec.default;
      else spec.default = d;
    } else if (c.kw('ON', 'UPDATE')) {
      c.skipValue();
      spec.onUpdate = true;
    } else if (c.kw('AUTO_INCREMENT')) spec.autoIncrement = true;
    else if (c.kw('SERIAL', 'DEFAULT', 'VALUE')) {
      spec.autoIncrement = true;
      spec.unique = true;
      spec.notNull = true;
    } else if (c.kw('UNIQUE')) {
      c.kw('KEY');
      spec.unique = true;
    } else if (c.kw('PRIMARY', 'KEY') || c.kw('KEY')) spec.primary = true;
    else if (c.kw('COMMENT')) spec.comment = c.stringOrName();
    else if (c.kw('GENERATED', 'ALWAYS', 'AS') || c.kw('AS')) {
      if (c.isWord('ROW')) throw new Unsupported('system-versioned tables (AS ROW START/END) are not modelled');
      const open = c.i;
      c.skipParens();
      spec.generated = true;
      const storage = c.kwAny('VIRTUAL', 'STORED', 'PERSISTENT');
      spec.generation = {
        expr: tokenText(c.t.slice(open + 1, c.i - (storage ? 2 : 1))),
        stored: storage === 'STORED' || storage === 'PERSISTENT',
      };
    } else if (c.kwAny('INVISIBLE', 'VISIBLE')) {
      /* still in the row image */
    } else if (c.kw('WITHOUT', 'SYSTEM', 'VERSIONING')) {
      /* no-op */
    } else if (c.kw('WITH', 'SYSTEM', 'VERSIONING')) throw new Unsupported('system-versioned tables are not modelled');
    else if (c.kw('REFERENCES')) {
      skipReferences(c);
      spec.foreignKeys.push({});
    } else if (c.kw('CONSTRAINT')) {
      const constraint = c.isWord('CHECK') || c.isWord('REFERENCES') ? undefined : c.ident();
      if (c.kw('REFERENCES')) {
        skipReferences(c);
        spec.foreignKeys.push(constraint === undefined ? {} : { constraint });
      } else {
        c.must('CHECK');
        c.skipParens();
      }
    } else if (c.kw('CHECK')) c.skipParens();
    else if (c.kwAny('COLUMN_FORMAT', 'STORAGE')) c.next();
    else if (c.kw('COMPRESSED')) {
      type.compressed = true;
      if (c.op('=')) c.next();
    } else if (c.kwAny('REF_SYSTEM_ID', 'SRID', 'ENGINE_ATTRIBUTE', 'SECONDARY_ENGINE_ATTRIBUTE')) {
      c.op('=');
      c.skipValue();
    } else if (c.kw('FIRST')) spec.position = { first: true };
    else if (c.kw('AFTER')) spec.position = { after: c.ident() };
    else if (c.peek()?.type === 'word' && c.isOp('=', 1)) {
      c.i += 2;
      c.skipValue();
    } // engine-defined attribute
    else throw new ParseError(`unexpected ${c.where()} in the definition of column ${name}`);
  }
  return spec;
}

/** The source text of consecutive tokens, with one space where the statement had any. */
function tokenText(toks: Token[]): string {
  let out = '';
  for (const [k, tok] of toks.entries()) out += (k > 0 && tok.start > toks[k - 1]!.end ? ' ' : '') + tok.text;
  return out;
}

/**
 * The indexes a column definition adds, in MariaDB's order: the implicit index of each inline REFERENCES (added
 * while the attributes are read), then PRIMARY KEY, else UNIQUE (added after the definition; not both).
 */
export function inlineKeys(spec: ColumnSpec): IndexSpec[] {
  const keys: IndexSpec[] = spec.foreignKeys.map((fk) => {
    const k: IndexSpec = { kind: 'foreign', columns: [spec.name] };
    if (fk.constraint !== undefined) k.name = fk.constraint;
    return k;
  });
  if (spec.primary) keys.push({ kind: 'primary', columns: [spec.name] });
  else if (spec.unique) keys.push({ kind: 'unique', columns: [spec.name] });
  return keys;
}

/** After REFERENCES: `tbl [(cols)] [MATCH x] [ON DELETE|UPDATE action]...`. */
export function skipReferences(c: Cursor): void {
  c.qualifiedName();
  if (c.isOp('(')) c.skipParens();
  for (;;) {
    if (c.kw('MATCH')) c.next();
    else if (c.kw('ON', 'DELETE') || c.kw('ON', 'UPDATE')) {
      if (!(c.kwAny('RESTRICT', 'CASCADE') || c.kw('SET', 'NULL') || c.kw('SET', 'DEFAULT') || c.kw('NO', 'ACTION'))) {
        throw new ParseError(`expected a referential action ${c.where()}`);
      }
    } else return;
  }
}

/**
 * The column as information_schema shows it, in a table whose default charset/collation is `table`.
 * `convertTo` (ALTER TABLE ... CONVERT TO in the same statement) replaces every non-binary charset.
 */
export function resolveColumn(
  spec: ColumnSpec,
  table: CharsetDefault,
  rules: ColumnRules,
  convertTo?: CharsetDefault,
): TrackedColumn {
  const t = spec.type;
  let columnType: string;
  let charset: string | null = null;
  let collation: string | null = null;
  const sign = (t.unsigned ? ' unsigned' : '') + (t.zerofill ? ' zerofill' : '');
  const base = t.base;
  if (base in INT_WIDTH) {
    const [s, u] = INT_WIDTH[base]!;
    columnType = `${base}(${t.len || (t.unsigned ? u : s)})${sign}`;
  } else if (base === 'decimal') {
    columnType = `decimal(${t.len ?? 10},${t.dec ?? 0})${sign}`;
  } else if (base === 'float' || base === 'double') {
    let b = base;
    if (base === 'float' && t.len !== undefined && t.dec === undefined && t.len > 24) b = 'double';
    columnType = (t.dec !== undefined ? `${b}(${t.len},${t.dec})` : b) + sign;
  } else if (base === 'bit') {
    columnType = `bit(${t.len ?? 1})`;
  } else if (base === 'year') {
    columnType = `year(${t.len === 2 ? 2 : 4})`;
  } else if (base === 'time' || base === 'datetime' || base === 'timestamp') {
    columnType = t.len ? `${base}(${t.len})` : base;
  } else if (base === 'json') {
    columnType = 'longtext';
    charset = 'utf8mb4';
    collation = 'utf8mb4_bin';
  } else if (base === 'binary' || base === 'varbinary' || BLOBS.includes(base)) {
    columnType = stringType(
      base === 'binary' ? 'char' : base === 'varbinary' ? 'varchar' : TEXTS[BLOBS.indexOf(base)]!,
      t,
      null,
    );
  } else if (base === 'char' || base === 'varchar' || TEXTS.includes(base) || base === 'enum' || base === 'set') {
    ({ charset, collation } = columnCharset(t, table));
    if (convertTo && charset !== 'binary') ({ charset, collation } = convertTo);
    columnType = stringType(base, t, charset);
    if (charset === 'binary' && base !== 'enum' && base !== 'set') {
      charset = null;
      collation = null;
    }
  } else {
    columnType = base; // date, geometry types, uuid, inet4, inet6
  }
  if (t.compressed) columnType += COMPRESSED;
  const implicitNotNull =
    spec.autoIncrement || (base === 'timestamp' && !rules.explicitDefaultsForTimestamp && !spec.generated);
  const nullable = spec.primary ? false : spec.notNull === undefined ? !implicitNotNull : !spec.notNull;
  // information_schema COLUMN_DEFAULT: NULL (none) for generated and AUTO_INCREMENT columns and NOT NULL columns
  // without DEFAULT; NOT NULL TIMESTAMPs get one implicitly when explicit_defaults_for_timestamp is OFF.
  const hasDefault =
    spec.generated || spec.autoIncrement
      ? false
      : spec.explicitDefault === true || nullable || (base === 'timestamp' && !rules.explicitDefaultsForTimestamp);
  const col: TrackedColumn = {
    name: spec.name,
    columnType,
    dataType: dataTypeOf(columnType),
    nullable,
    generated: spec.generated,
    charset,
    collation,
    comment: spec.comment,
    hasDefault,
  };
  if (spec.generation) col.generation = { ...spec.generation };
  if (spec.default !== undefined) col.default = spec.default;
  if (spec.autoIncrement) col.autoIncrement = true;
  return col;
}

function columnCharset(t: TypeSpec, table: CharsetDefault): CharsetDefault {
  if (t.charset !== undefined) {
    const charset = t.charset.toUpperCase() === 'DEFAULT' ? table.charset : normalizeCharset(t.charset);
    const collation =
      t.collate !== undefined
        ? normalizeCollation(t.collate)
        : t.binaryAttr
          ? binCollation(charset)
          : defaultCollation(charset);
    return { charset, collation };
  }
  if (t.collate !== undefined) {
    const collation = normalizeCollation(t.collate);
    return { charset: charsetOfCollation(collation), collation };
  }
  if (t.binaryAttr) return { charset: table.charset, collation: binCollation(table.charset) };
  return { charset: table.charset, collation: table.collation };
}

/**
 * COLUMN_TYPE of a character type (char, varchar, a TEXT, enum, set) in `charset`; charset null or binary gives
 * the binary variant (binary, varbinary, a BLOB).
 */
function stringType(base: string, t: TypeSpec, charset: string | null): string {
  const bin = charset === null || charset === 'binary';
  const mb = maxBytesPerChar(bin ? null : charset);
  if (base === 'enum' || base === 'set') return formatEnumType(base, t.members ?? []);
  if (base === 'char') return `${bin ? 'binary' : 'char'}(${t.len ?? 1})`;
  if (base === 'varchar') {
    if (t.len === undefined) throw new ParseError('VARCHAR needs a length');
    if (t.len * mb <= MAX_VARCHAR_BYTES) return `${bin ? 'varbinary' : 'varchar'}(${t.len})`;
    return (bin ? BLOBS : TEXTS)[lobIndex(t.len * mb)]!;
  }
  let k = TEXTS.indexOf(base);
  if (t.len && k < 3) k = lobIndex(t.len * mb); // TEXT(n), BLOB(n): the smallest type for n characters
  return (bin ? BLOBS : TEXTS)[k]!;
}

/**
 * An existing column after ALTER TABLE ... CONVERT TO CHARACTER SET: every column with a non-binary charset takes
 * the new one. A TEXT keeps its length in characters (bytes / old maximum bytes per character, rounded down), so
 * latin1 TEXT becomes utf8mb4 MEDIUMTEXT; LONGTEXT stays. A VARCHAR too long for the new charset becomes TEXT.
 */
export function convertColumn(col: TrackedColumn, to: CharsetDefault): TrackedColumn {
  if (col.charset === null || col.charset === 'binary') return col;
  const bin = to.charset === 'binary';
  const mbOld = maxBytesPerChar(col.charset);
  const mbNew = maxBytesPerChar(bin ? null : to.charset);
  let columnType = col.columnType;
  const dt = col.dataType;
  const len = Number(/\((\d+)\)/.exec(col.columnType)?.[1] ?? 0);
  if (dt === 'char') columnType = `${bin ? 'binary' : 'char'}(${len})`;
  else if (dt === 'varchar') {
    columnType =
      len * mbNew <= MAX_VARCHAR_BYTES
        ? `${bin ? 'varbinary' : 'varchar'}(${len})`
        : (bin ? BLOBS : TEXTS)[lobIndex(len * mbNew)]!;
  } else if (TEXTS.includes(dt)) {
    const k = TEXTS.indexOf(dt);
    const chars = Math.floor(LOB_BYTES[k]! / mbOld);
    columnType = (bin ? BLOBS : TEXTS)[k === 3 ? 3 : lobIndex(chars * mbNew)]!;
  }
  if (col.columnType.endsWith(COMPRESSED) && !columnType.endsWith(COMPRESSED)) columnType += COMPRESSED;
  const keepsCharset = dt === 'enum' || dt === 'set' || !bin;
  return {
    ...col,
    columnType,
    dataType: dataTypeOf(columnType),
    charset: keepsCharset ? to.charset : null,
    collation: keepsCharset ? to.collation : null,
  };
}
