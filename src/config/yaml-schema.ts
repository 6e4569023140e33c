/**
 * Generic YAML + zod loading with errors that point at the line.
 *
 * Every config file goes through three steps: parse (yaml-source.ts: YAML syntax errors -> ConfigYamlSyntax with
 * file:line:column), convert the YAML tree to plain values guided by the zod schema (yaml-values.ts: so a string
 * field receives the scalar's source text, as DM's Go yaml.v2 decoder does), and validate with the schema (here:
 * strict objects: an unknown key is ConfigUnknownKey with a spelling suggestion). Each zod issue path is mapped
 * back to the YAML node it came from, so an error reads
 * `[TSDM-10004] task.yaml:14:5 key mysql-instances[0].route-rule: unknown key "route-rule"; did you mean "route-rules"?`.
 *
 * Files are parsed as YAML 1.1 because DM reads them with gopkg.in/yaml.v2 (see yaml-source.ts).
 */
import type { z } from 'zod';
import type { DmError, ErrorName } from '../errors/index.ts';
import { closest } from './suggest.ts';
import { knownKeys, toPlain, type AnySchema } from './yaml-values.ts';
import { configError, formatPath, locate, parseYaml, type ConfigPath, type YamlSource } from './yaml-source.ts';

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
