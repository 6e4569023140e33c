/**
 * Generic YAML + zod loading with errors that point at the line.
 *
 * Every config file goes through three steps here: parse (YAML syntax errors -> ConfigYamlSyntax with
 * file:line:column), convert the YAML tree to plain values guided by the zod schema (so a string field
 * receives the scalar's source text, as DM's Go yaml.v2 decoder does), and validate with the schema (strict
 * objects: an unknown key is ConfigUnknownKey with a spelling suggestion). Each zod issue path is mapped
 * back to the YAML node it came from, so an error reads
 * `[TSDM-10004] task.yaml:14:5 key mysql-instances[0].route-rule: unknown key "route-rule"; did you mean "route-rules"?`.
 *
 * Files are parsed as YAML 1.1 because DM reads them with gopkg.in/yaml.v2: `on`/`off`/`yes`/`no` are
 * booleans, and a task file that works with DM must mean the same thing here.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { DmError, type ErrorName } from '../errors/index.ts';
import { closest } from './suggest.ts';

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

function keyText(key: unknown): string | undefined {
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

// -------------------------------------------------------------------------------- schema-guided values

/* zod v4 keeps each schema's definition under `_zod.def`; we only read `type` and the child schemas. */
interface ZodDef {
  type: string;
  [k: string]: unknown;
}
type AnySchema = z.ZodType;
function defOf(s: AnySchema | undefined): ZodDef | undefined {
  return (s as unknown as { _zod?: { def?: ZodDef } } | undefined)?._zod?.def;
}

/** Strips optional/default/pipe/… wrappers down to the schema that describes the value's shape. */
function unwrap(s: AnySchema | undefined): AnySchema | undefined {
  for (let i = 0; i < 20 && s; i++) {
    const d = defOf(s);
    if (!d) return s;
    if (['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional'].includes(d.type))
      s = d['innerType'] as AnySchema;
    else if (d.type === 'pipe') s = d['in'] as AnySchema;
    else if (d.type === 'lazy') s = (d['getter'] as () => AnySchema)();
    else return s;
  }
  return s;
}

/** The schema of `key` (or list index) inside `s`, or undefined when `s` does not describe it. */
function childSchema(s: AnySchema | undefined, key: string | number): AnySchema | undefined {
  const u = unwrap(s);
  const d = defOf(u);
  if (!d) return undefined;
  switch (d.type) {
    case 'object':
      return (d['shape'] as Record<string, AnySchema>)[String(key)];
    case 'record':
      return d['valueType'] as AnySchema;
    case 'array':
      return d['element'] as AnySchema;
    case 'union': {
      for (const o of d['options'] as AnySchema[]) {
        const c = childSchema(o, key);
        if (c) return c;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/** Keys a strict object at `path` accepts (for "did you mean"). */
export function knownKeys(schema: AnySchema, path: ConfigPath): string[] {
  let s: AnySchema | undefined = schema;
  for (const seg of path) s = childSchema(s, seg);
  const d = defOf(unwrap(s));
  if (d?.type === 'object') return Object.keys(d['shape'] as object);
  if (d?.type === 'union')
    return (d['options'] as AnySchema[]).flatMap((o) => {
      const od = defOf(unwrap(o));
      return od?.type === 'object' ? Object.keys(od['shape'] as object) : [];
    });
  return [];
}

function expectsOnlyString(s: AnySchema | undefined): boolean {
  const d = defOf(unwrap(s));
  if (!d) return false;
  if (d.type === 'string') return true;
  if (d.type === 'enum') return Object.values(d['entries'] as object).every((v) => typeof v === 'string');
  if (d.type === 'union') return (d['options'] as AnySchema[]).every(expectsOnlyString);
  return false;
}

/**
 * The YAML tree as plain values. A key whose value is null/empty is left out (Go leaves the field at its
 * zero value, so for DM `relay-binlog-name:` means "not set"). A scalar going into a string field keeps its
 * source text: `password: 012345` is "012345", not the octal number 5349.
 */
export function toPlain(src: YamlSource, schema: AnySchema | undefined): unknown {
  const walk = (node: unknown, s: AnySchema | undefined): unknown => {
    if (isAlias(node)) return walk(node.resolve(src.doc), s);
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || v === undefined) return undefined;
      if (typeof v !== 'string' && expectsOnlyString(s)) return node.source ?? String(v);
      return v;
    }
    if (isSeq(node)) return node.items.map((item, i) => walk(item, childSchema(s, i)));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const put = (k: string, v: unknown) =>
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      for (const pair of node.items) {
        const k = keyText(pair.key);
        if (k === undefined) continue;
        if (k === '<<') {
          // YAML merge key: copy entries of the referenced map(s) that are not set explicitly.
          const merged = walk(pair.value, s);
          for (const m of Array.isArray(merged) ? merged : [merged]) {
            if (m && typeof m === 'object') for (const [mk, mv] of Object.entries(m)) if (!(mk in out)) put(mk, mv);
          }
          continue;
        }
        const v = walk(pair.value, childSchema(s, k));
        if (v !== undefined) put(k, v);
      }
      return out;
    }
    return node === null || node === undefined ? undefined : node;
  };
  return walk(src.doc.contents, schema);
}

// ----------------------------------------------------------------------------------------- validate

export interface ConfigIssue {
  name: ErrorName;
  path: ConfigPath;
  message: string;
  suggestion?: string;
}

/** Issue params a refinement can set to choose the error code (default ConfigInvalid). */
export interface IssueParams {
  dmCode?: ErrorName;
  suggestion?: string;
}

/**
 * Validates `value` (from toPlain) against `schema`. Throws the first problem (unknown keys first, then file
 * order) as a DmError; the message lists the others, so one run shows every mistake in the file.
 */
export function validate<S extends AnySchema>(src: YamlSource, value: unknown, schema: S): z.output<S> {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError(
      src,
      'ConfigInvalid',
      [],
      value === undefined ? 'the file is empty' : 'the file must be a YAML mapping of keys to values',
    );
  }
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  const issues: ConfigIssue[] = [];
  for (const is of r.error.issues) issues.push(...toIssues(is as unknown as RawIssue, value, schema));
  throw issuesError(src, issues);
}

/** One DmError for a list of issues: the first in file order, with the rest appended to its message. */
export function issuesError(src: YamlSource, issues: ConfigIssue[]): DmError {
  const located = issues.map((i) => ({ ...i, loc: locate(src, i.path) }));
  // Unknown keys first: a misspelt key usually also causes a "missing required key" further up the file.
  const rank = (i: ConfigIssue) => (i.name === 'ConfigUnknownKey' ? 0 : 1);
  located.sort((a, b) => rank(a) - rank(b) || a.loc.line - b.loc.line || a.loc.column - b.loc.column);
  const [first, ...rest] = located;
  if (!first) return configError(src, 'ConfigInvalid', [], 'invalid configuration');
  let message = first.message;
  if (rest.length > 0) {
    message +=
      `\n  and ${rest.length} more:` +
      rest.map((i) => `\n  ${src.file}:${i.loc.line} key ${formatPath(i.path)}: ${i.message}`).join('');
  }
  return configError(src, first.name, first.path, message, first.suggestion);
}

interface RawIssue {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  keys?: string[];
  values?: unknown[];
  params?: IssueParams;
  errors?: RawIssue[][];
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
}

function toIssues(is: RawIssue, root: unknown, schema: AnySchema): ConfigIssue[] {
  const path = is.path.map((p) => (typeof p === 'number' ? p : String(p)));
  switch (is.code) {
    case 'unrecognized_keys':
      return (is.keys ?? []).map((k) => {
        const hint = closest(k, knownKeys(schema, path));
        const issue: ConfigIssue = {
          name: 'ConfigUnknownKey',
          path: [...path, k],
          message: `unknown key "${k}"${hint ? `; did you mean "${hint}"?` : ''}`,
        };
        if (hint) issue.suggestion = `Rename "${k}" to "${hint}" (docs/configuration.md lists every key).`;
        return issue;
      });
    case 'invalid_type': {
      if (valueAt(root, path) === undefined)
        return [
          {
            name: 'ConfigInvalid',
            path,
            message: `required key "${String(path[path.length - 1] ?? '')}" is missing or empty`,
          },
        ];
      return [
        {
          name: 'ConfigInvalid',
          path,
          message: `expected ${article(is.expected ?? 'value')}, got ${describe(is.input)}`,
        },
      ];
    }
    case 'invalid_union': {
      if (valueAt(root, path) === undefined)
        return [
          {
            name: 'ConfigInvalid',
            path,
            message: `required key "${String(path[path.length - 1] ?? '')}" is missing or empty`,
          },
        ];
      const expected = [
        ...new Set(
          (is.errors ?? [])
            .flat()
            .map((e) => e.expected)
            .filter((e): e is string => !!e),
        ),
      ];
      return [
        {
          name: 'ConfigInvalid',
          path,
          message: `expected ${expected.length ? expected.map(article).join(' or ') : 'another value'}, got ${describe(valueAt(root, path))}`,
        },
      ];
    }
    case 'invalid_value':
      return [
        {
          name: 'ConfigInvalid',
          path,
          message: `must be one of ${(is.values ?? []).map((v) => JSON.stringify(v)).join(', ')}; got ${describe(is.input)}`,
        },
      ];
    case 'too_small':
      if (is.origin === 'string' && is.minimum === 1)
        return [{ name: 'ConfigInvalid', path, message: 'must not be empty' }];
      if (is.origin === 'array')
        return [{ name: 'ConfigInvalid', path, message: `needs at least ${String(is.minimum)} item(s)` }];
      return [
        { name: 'ConfigInvalid', path, message: `must be at least ${String(is.minimum)}; got ${describe(is.input)}` },
      ];
    case 'too_big':
      if (is.origin === 'string')
        return [
          {
            name: 'ConfigInvalid',
            path,
            message: `must be at most ${String(is.maximum)} characters; got ${describe(is.input)}`,
          },
        ];
      return [
        { name: 'ConfigInvalid', path, message: `must be at most ${String(is.maximum)}; got ${describe(is.input)}` },
      ];
    case 'custom': {
      const issue: ConfigIssue = { name: is.params?.dmCode ?? 'ConfigInvalid', path, message: is.message };
      if (is.params?.suggestion) issue.suggestion = is.params.suggestion;
      return [issue];
    }
    default:
      return [{ name: 'ConfigInvalid', path, message: is.message.replace(/^Invalid input: /, '') }];
  }
}

function valueAt(root: unknown, path: ConfigPath): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg as string];
  }
  return v;
}

function article(t: string): string {
  if (t === 'record') return 'a mapping';
  if (t === 'array') return 'a list';
  if (t === 'int') return 'an integer';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? v.slice(0, 60) + '…' : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Parse, convert and validate in one go: what most loaders need. */
export function loadYaml<S extends AnySchema>(
  text: string,
  file: string,
  schema: S,
): { src: YamlSource; raw: unknown; data: z.output<S> } {
  const src = parseYaml(text, file);
  const raw = toPlain(src, schema);
  return { src, raw, data: validate(src, raw, schema) };
}
