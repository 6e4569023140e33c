/**
 * YAML sources and positions: parsing a config file (YAML syntax errors -> ConfigYamlSyntax with
 * file:line:column), and mapping a key path back to the line and column of the YAML node it came from, so
 * that every config error and note (configError, configNote) names the file, line and key.
 *
 * Files are parsed as YAML 1.1 because DM reads them with gopkg.in/yaml.v2: `on`/`off`/`yes`/`no` are
 * booleans, and a task file that works with DM must mean the same thing here.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import { DmError, type ErrorName } from '../errors/index.ts';
import { checkConfigSize } from './limits.ts';

export type ConfigPath = readonly (string | number)[];

/** A parsed file: the YAML document (for locations) and its name (for messages). */
export interface YamlSource {
  readonly file: string;
  readonly doc: Document.Parsed;
  readonly lines: LineCounter;
}

export interface Location {
  line: number;
  column: number;
}

/**
 * Something the user should know that is not an error: a DM key accepted without effect, a deprecated
 * alias, a rule DM itself would drop. `dmctl check-task` and `start-task` print them.
 */
export interface ConfigNote {
  kind: 'no-effect' | 'deprecated' | 'dm-compat';
  file: string;
  line?: number;
  column?: number;
  key: string;
  message: string;
}

export function formatNote(n: ConfigNote): string {
  const where = n.line ? `${n.file}:${n.line}` : n.file;
  return `${where} key ${n.key}: ${n.message}`;
}

/** `mysql-instances[0].route-rules` */
export function formatPath(path: ConfigPath): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? seg : `.${seg}`;
  return s;
}

// ---------------------------------------------------------------------------------------------- parse

export function parseYaml(text: string, file: string): YamlSource {
  // Before anything is parsed: also covers files that reach an agent through NATS and text given by tests.
  checkConfigSize(file, Buffer.byteLength(text, 'utf8'));
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
  });
  const err = doc.errors[0];
  if (err) {
    const pos = lines.linePos(err.pos[0]);
    // yaml's messages carry a source excerpt after the first line; our context already says where.
    const context: { file: string; line: number; column: number; key?: string } = {
      file,
      line: pos.line,
      column: pos.col,
    };
    const key = formatPath(pathAt(doc.contents, err.pos[0]));
    if (key !== '') context.key = key;
    throw new DmError('ConfigYamlSyntax', err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), {
      context,
    });
  }
  return { file, doc, lines };
}

/** The key path of the innermost node around `offset` in a (possibly broken) document: "where" for syntax errors. */
function pathAt(root: unknown, offset: number): (string | number)[] {
  const path: (string | number)[] = [];
  const within = (n: unknown) => {
    const r = (n as { range?: number[] } | null)?.range;
    return !!r && r[0]! <= offset && offset <= r[2]!;
  };
  let node = root;
  for (let guard = 0; guard < 100; guard++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => within(p.key) || within(p.value));
      if (!pair) break;
      if (!isScalar(pair.key) || typeof pair.key.value !== 'string') break;
      path.push(pair.key.value);
      node = pair.value;
    } else if (isSeq(node)) {
      const i = node.items.findIndex(within);
      if (i < 0) break;
      path.push(i);
      node = node.items[i];
    } else break;
  }
  return path;
}

// ------------------------------------------------------------------------------------------- locate

/**
 * Line and column of the key at `path` (of the list item, for an index). When the path does not exist in
 * the file (a missing required key, a default), the deepest existing ancestor is returned: that is where
 * the user has to add the key.
 */
export function locate(src: YamlSource, path: ConfigPath): Location & { exact: boolean } {
  let node: unknown = src.doc.contents;
  let offset = rangeStart(node) ?? 0;
  let depth = 0;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(src.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(seg));
      if (!pair) break;
      offset = rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      node = node.items[seg];
      offset = rangeStart(node) ?? offset;
    } else break;
    depth++;
  }
  const pos = src.lines.linePos(offset);
  return { line: pos.line, column: pos.col, exact: depth === path.length };
}

function rangeStart(node: unknown): number | undefined {
  const r = (node as { range?: [number, number, number] } | null | undefined)?.range;
  return r ? r[0] : undefined;
}

export function keyText(key: unknown): string | undefined {
  // Keys are names as written: YAML 1.1 would read a rule named `e02` (DM's expression_filter case) as a float,
  // Go's yaml decoding into map[string]... keeps the text.
  if (isScalar(key)) return typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
  return key === null || key === undefined ? undefined : String(key);
}

/** The source text of a scalar value (e.g. `off` where YAML 1.1 resolved it to false), or undefined. */
export function scalarSource(src: YamlSource, path: ConfigPath): string | undefined {
  let node: unknown = src.doc.contents;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(src.doc);
    if (isMap(node)) node = node.items.find((p) => keyText(p.key) === String(seg))?.value;
    else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
    else return undefined;
  }
  return isScalar(node) ? node.source : undefined;
}

/** A DmError located at `path` in the file: context carries file, line, column and the key path. */
export function configError(
  src: YamlSource,
  name: ErrorName,
  path: ConfigPath,
  message: string,
  suggestion?: string,
): DmError {
  const loc = locate(src, path);
  const opts: { context: { file: string; line: number; column: number; key: string }; suggestion?: string } = {
    context: { file: src.file, line: loc.line, column: loc.column, key: formatPath(path) || '(top level)' },
  };
  if (suggestion !== undefined) opts.suggestion = suggestion;
  return new DmError(name, message, opts);
}

export function configNote(src: YamlSource, kind: ConfigNote['kind'], path: ConfigPath, message: string): ConfigNote {
  const loc = locate(src, path);
  return { kind, file: src.file, line: loc.line, column: loc.column, key: formatPath(path), message };
}
