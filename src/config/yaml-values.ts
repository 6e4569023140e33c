/**
 * The YAML tree as plain values, guided by the zod schema: a string field receives the scalar's source text, as
 * DM's Go yaml.v2 decoder does. Also the schema's own shape (knownKeys), for "did you mean" on an unknown key.
 */
import { isAlias, isMap, isScalar, isSeq, visit, type Alias, type Node } from 'yaml';
import type { z } from 'zod';
import { MAX_ALIAS_DEPTH, MAX_ALIAS_NODES } from './limits.ts';
import { configError, keyText, type ConfigPath, type YamlSource } from './yaml-source.ts';

/* zod v4 keeps each schema's definition under `_zod.def`; we only read `type` and the child schemas. */
interface ZodDef {
  type: string;
  [k: string]: unknown;
}
export type AnySchema = z.ZodType;
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
  const targets = aliasTargets(src);
  const path: (string | number)[] = [];
  // Nodes reached through an alias (each time again): bounded, so an alias bomb stops here (limits.ts). Aliases
  // nested in aliases are bounded too: an alias inside the node it refers to (`&a [*a]`) would never end.
  let viaAlias = 0;
  let aliasDepth = 0;
  let aliasAt: ConfigPath = [];
  const tooMuch = (what: string) =>
    configError(src, 'ConfigAliasLimit', aliasAt, `YAML aliases ${what}; expansion stopped`);
  const walk = (node: unknown, s: AnySchema | undefined): unknown => {
    if (aliasDepth > 0 && ++viaAlias > MAX_ALIAS_NODES)
      throw tooMuch(`expand to more than ${MAX_ALIAS_NODES} nodes (an alias bomb?)`);
    if (isAlias(node)) {
      if (aliasDepth === 0) aliasAt = [...path]; // where the user wrote the alias, not where it led
      if (++aliasDepth > MAX_ALIAS_DEPTH)
        throw tooMuch(`are nested more than ${MAX_ALIAS_DEPTH} deep (an alias inside the node it refers to?)`);
      try {
        return walk(targets.get(node), s);
      } finally {
        aliasDepth--;
      }
    }
    if (isScalar(node)) {
      const v = node.value;
      if (v === null || v === undefined) return undefined;
      if (typeof v !== 'string' && expectsOnlyString(s)) return node.source ?? String(v);
      return v;
    }
    if (isSeq(node))
      return node.items.map((item, i) => {
        path.push(i);
        try {
          return walk(item, childSchema(s, i));
        } finally {
          path.pop();
        }
      });
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
        path.push(k);
        let v: unknown;
        try {
          v = walk(pair.value, childSchema(s, k));
        } finally {
          path.pop();
        }
        if (v !== undefined) put(k, v);
      }
      return out;
    }
    return node === null || node === undefined ? undefined : node;
  };
  return walk(src.doc.contents, schema);
}

/**
 * What each alias of the document refers to: the last node before it with that anchor (YAML's rule). One pass over
 * the document; `Alias.resolve` walks the whole document on every call, which made many aliases quadratic.
 */
function aliasTargets(src: YamlSource): Map<Alias, Node | undefined> {
  const latest = new Map<string, Node>();
  const out = new Map<Alias, Node | undefined>();
  visit(src.doc, {
    Node: (_key, node) => {
      if (isAlias(node)) out.set(node, latest.get(node.source));
      else if (typeof (node as { anchor?: unknown }).anchor === 'string')
        latest.set((node as { anchor: string }).anchor, node);
    },
  });
  return out;
}
