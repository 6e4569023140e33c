import { isAscii } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { charsetCodes } from './status-vars.ts';

/**
 * A Query event's statement in the character set its client sent it in (DM decodes it the same way: the event's
 * character_set_client, status variable Q_CHARSET_CODE).
 *
 * A client connected with `--default-character-set=gbk` writes its statements in gbk, and the binlog holds those
 * bytes: `CREATE TABLE t (c INT COMMENT '你好')` has the comment's gbk bytes, not UTF-8. zongji decodes every Query
 * event's text and status variables as UTF-8, so such a comment, default value or name came out as U+FFFD and was
 * replayed downstream that way. zongji's event classes parse in their constructors and keep only the decoded text; so
 * the patch records the bytes of the last string zongji's parser decoded, and accessors on its Query class keep those
 * bytes next to the text as the constructor assigns it (`statusVarsBytes`, `queryBytes`).
 */

interface ZParser {
  parseBuffer(length?: number): Buffer;
}
interface ZQuery {
  statusVarsBytes?: Buffer;
  queryBytes?: Buffer;
}
type DecodeText = (buffer: Buffer, charset: string) => string | Buffer;
type CollationToCharset = (id: number) => string | undefined;

let installed: Promise<void> | undefined;
let decodeText: DecodeText | undefined;
let charsetOf: CollationToCharset | undefined;

/** Installs the patch into zongji's parser and Query event, once per process. */
export function installQueryBytes(): Promise<void> {
  installed ??= (async () => {
    const lib = join(dirname(createRequire(import.meta.url).resolve('@vlasky/zongji')), 'lib');
    const load = async (f: string) =>
      (await import(pathToFileURL(join(lib, f)).href)) as Record<string, unknown> & {
        Parser?: { prototype: Record<string, unknown> };
        Query?: { prototype: object };
      };
    const [reader, events, common, charsets] = await Promise.all([
      load('reader.js'),
      load('binlog_event.js'),
      load('common.js'),
      load('charset_map.js'),
    ]);
    const Parser = reader.Parser;
    const Query = events.Query;
    if (
      !Parser ||
      !Query ||
      typeof common.decodeTextColumn !== 'function' ||
      typeof charsets.collationToCharset !== 'function'
    )
      throw new Error(
        'zongji no longer has lib/reader.js Parser, lib/binlog_event.js Query, lib/common.js decodeTextColumn or lib/charset_map.js collationToCharset',
      );
    decodeText = common.decodeTextColumn as DecodeText;
    charsetOf = charsets.collationToCharset as CollationToCharset;
    let last: Buffer | undefined;
    let lastText: string | undefined;
    // zongji's own parseString, with the bytes and their text kept until the next call (read synchronously by the
    // setters below).
    Parser.prototype.parseString = function (this: ZParser, length: number): string {
      last = this.parseBuffer(length);
      lastText = last.toString('utf8');
      return lastText;
    };
    const keep = (prop: 'statusVars' | 'query', bytesProp: keyof ZQuery) => {
      const slot = Symbol(prop);
      Object.defineProperty(Query.prototype, prop, {
        configurable: true,
        get(this: Record<symbol, string>) {
          return this[slot];
        },
        set(this: Record<symbol, string> & ZQuery, text: string) {
          this[slot] = text;
          // The compressed form's text does not come from parseString: keep bytes only when they are this text's (the
          // string parseString just returned: compared without decoding the bytes again).
          if (last && lastText === text) this[bytesProp] = last;
        },
      });
    };
    keep('statusVars', 'statusVarsBytes');
    keep('query', 'queryBytes');
  })();
  return installed;
}

const UTF8 = new Set(['utf8', 'utf8mb3', 'utf8mb4', 'ascii', 'binary']);

/** The statement of a Query event as its client wrote it; zongji's UTF-8 text when that is what it was, or unknown. */
export function queryText(e: { query?: string } & ZQuery): string {
  const text = e.query ?? '';
  if (!e.queryBytes || !e.statusVarsBytes || !decodeText || !charsetOf) return text;
  // ASCII reads the same in every client charset (MySQL allows none that is not ASCII-compatible): BEGIN, most DDL.
  if (isAscii(e.queryBytes)) return text;
  const client = charsetCodes(e.statusVarsBytes)?.client;
  const charset = client === undefined ? undefined : charsetOf(client);
  if (!charset || UTF8.has(charset)) return text;
  const decoded = decodeText(e.queryBytes, charset);
  return typeof decoded === 'string' ? decoded : text;
}
