/**
 * The shape of the tree, checked (issue #13): `src/` is shared and imports neither `agent/` nor `tui/`; `agent/` and
 * `tui/` never import each other; `agent/` reads bottom-up (no file imports a module of a higher layer); `src/` has
 * no import cycle between its files; no file in `agent/` or `src/` passes 400 lines, except parsers.
 *
 * What breaks a rule today is listed in KNOWN_* below, each entry with the debt it names. The lists may only shrink:
 * a new breach fails, and so does an entry that no longer breaches (remove it, so the list stays the truth).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..', '..');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir))) {
    const p = join(dir, e);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...files(p));
    else if (/\.tsx?$/.test(e) && !/\.d\.ts$/.test(e)) out.push(p);
  }
  return out.sort();
}

/** Relative imports of a file, as repository paths (`import ... from`, `export ... from`, `import('...')`). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out = new Set<string>();
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    out.add(relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
  }
  return [...out];
}

const all = [...files('agent'), ...files('src'), ...files('tui')];
const graph = new Map(all.map((f) => [f, importsOf(f)]));

/**
 * agent/'s layers, lowest first: a file may import its own layer and lower ones. Each entry is a folder or a file
 * directly under agent/.
 */
const AGENT_LAYERS: string[][] = [
  ['log.ts', 'fault.ts', 'hash.ts', 'op-registry.ts', 'events.ts', 'version.ts'],
  ['db', 'binlog'],
  [
    'checkpoint-tables.ts',
    'checkpoint-fence.ts',
    'checkpoint-holds.ts',
    'checkpoint-load.ts',
    'checkpoint-remove.ts',
    'checkpoint.ts',
    'relay',
    'unit.ts',
  ],
  // The sync unit calls shard-DDL coordination through one seam (shard/coordinator.ts); shard/ never imports sync/.
  ['shard', 'rules.ts', 'each-upstream.ts'],
  ['sync'],
  // The load writes rows with sync/sqlgen.ts; check-data (verify/) compares and repairs with them too; dmctl plan
  // (plan/) prints the dump's statements.
  ['check', 'load', 'verify', 'plan'],
  [
    'subtask.ts',
    'subtask-units.ts',
    'subtask-validation.ts',
    'subtask-watch.ts',
    'subtask-events.ts',
    'subtask-log.ts',
    'subtask-edits.ts',
    'ops.ts',
    'schema-op.ts',
  ],
  [
    'cluster',
    'relay-upkeep.ts',
    'agent-metrics.ts',
    'open-coord.ts',
    'self-fence.ts',
    'agent.ts',
    'metrics-serve.ts',
    'main.ts',
  ],
];

function agentLayer(file: string): number {
  const part = file.split('/')[1]!;
  const i = AGENT_LAYERS.findIndex((l) => l.includes(part));
  if (i < 0)
    throw new Error(`${file}: agent/${part} is in no layer of AGENT_LAYERS (test/unit/structure.test.ts): add it`);
  return i;
}

/** Uphill imports in agent/ that exist today (none: keep it so). */
const KNOWN_UPHILL = new Set<string>([]);

/** Files over 400 lines in agent/ and src/ today, besides parsers (none: keep it so; split a file by concern). */
const KNOWN_LONG = new Set<string>([]);
/** Parsers and evaluators of a grammar: long by nature, exempt. */
const PARSERS = new Set<string>([
  'src/sql/ddl-parse.ts', // DDL statements
  'src/schema/column-def.ts', // column definitions (the tracker's own parser)
  'src/schema/alter-table.ts', // ALTER TABLE clauses
  'src/filter/expr-ast.ts', // expression filters: SQL expression to tsdm's AST
  'src/filter/expr-eval.ts', // ... and their evaluation
  'src/filter/expr-values.ts', // ... MySQL literal and value conversions
]);

test('src/ imports neither agent/ nor tui/, and agent/ and tui/ never import each other', () => {
  const bad: string[] = [];
  for (const [f, imps] of graph) {
    for (const t of imps) {
      const from = f.split('/')[0];
      const to = t.split('/')[0];
      if (
        (from === 'src' && (to === 'agent' || to === 'tui')) ||
        (from === 'agent' && to === 'tui') ||
        (from === 'tui' && to === 'agent')
      )
        bad.push(`${f} -> ${t}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('agent/ reads bottom-up: no file imports a module of a higher layer (beyond the known debt)', () => {
  const uphill: string[] = [];
  for (const [f, imps] of graph) {
    if (!f.startsWith('agent/')) continue;
    for (const t of imps) if (t.startsWith('agent/') && agentLayer(t) > agentLayer(f)) uphill.push(`${f} -> ${t}`);
  }
  const fresh = uphill.filter((u) => !KNOWN_UPHILL.has(u));
  assert.deepEqual(fresh, [], `new uphill imports in agent/ (layers in AGENT_LAYERS): ${fresh.join('; ')}`);
  const gone = [...KNOWN_UPHILL].filter((k) => !uphill.includes(k));
  assert.deepEqual(gone, [], 'these uphill imports are gone: remove them from KNOWN_UPHILL');
});

test('src/ has no import cycle', () => {
  const src = [...graph.keys()].filter((f) => f.startsWith('src/'));
  const state = new Map<string, 1 | 2>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 1);
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (!t.startsWith('src/') || !graph.has(t)) continue;
      if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].join(' -> '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of src) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

test('no file in agent/ or src/ passes 400 lines, except parsers (beyond the known debt)', () => {
  const long = [...graph.keys()]
    .filter((f) => (f.startsWith('agent/') || f.startsWith('src/')) && !PARSERS.has(f))
    .filter((f) => readFileSync(join(ROOT, f), 'utf8').split('\n').length > 400);
  const fresh = long.filter((f) => !KNOWN_LONG.has(f));
  assert.deepEqual(fresh, [], `files over 400 lines: split them (${fresh.join(', ')})`);
  const gone = [...KNOWN_LONG].filter((k) => !long.includes(k));
  assert.deepEqual(gone, [], 'these files are 400 lines or fewer now: remove them from KNOWN_LONG');
});
