/**
 * The plan for a DM case folder without a hand-written one: the common core of DM's run.sh, read from the folder's
 * files alone, the way DM's suite names and uses them (dm/tests/<case>/{conf,data} at tiflow c7b2588ef6):
 *
 *  1. every task file (a YAML with `name` and `mysql-instances`, whatever its name) is a scenario; source files
 *     (`conf/source*.yaml`) with the same `source-id` are alternatives of one source (tracker_ignored_ddl's
 *     source1_gtid.yaml / source1_pos.yaml): one scenario per alternative, as run.sh runs the flow once per file;
 *  2. data files: `dbN.prepare.sql` runs on upstream N before the task starts, `dbN.increment*.sql` while it runs, in
 *     DM's order — increment0, increment, increment1, increment2 … (all_mode, lightning_mode and
 *     sequence_sharding_optimistic run increment0 first, binlog_parse increment before increment1) — upstream 1 before
 *     upstream 2 within a step. `db.*.sql` (one source) runs on the upstream the task reads; a task that reads one
 *     upstream for which no file exists takes the files of the only other number (duplicate_event runs
 *     db1.*.sql on upstream 2 for its relay task). `tidb.prepare.sql` runs on the downstream before the start;
 *  3. each sync-diff config (a TOML with `[task] target-check-tables`, whatever its name) is checked against the
 *     tasks it belongs to: dm-addr configs name their task (`dm-task`); the others belong to the tasks that read
 *     one of their data sources' upstreams (by DM's CI ports) and can write one of the schemas they check (routes'
 *     target schemas and block-allow-list databases); a config named for a variant goes, among those, with the
 *     task named alike (`diff_relay_config.toml` and `dm-task-relay.yaml`); otherwise it checks each that fits;
 *  4. compare after the start (when prepare files exist), then after each increment step; a case whose tables
 *     only come from its increments (no prepare file) compares after them only, and a compare before the
 *     increments that finds the checked tables on neither side yet is noted, not failed.
 *
 * Placeholders are filled by the runner (case-files.ts runShPlaceholders). What a default plan cannot know —
 * run.sh's inline SQL, restarts, expected errors, its own seds — is what the hand plans in plans.ts add.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { DM_CI_PORTS, readYaml, upstreamOfSource } from './case-files.ts';
import type { CasePlan, Scenario, Step } from './plan.ts';
import { parseTableFilter, wildcard, type TableFilter } from './sync-diff-rules.ts';

/** A case folder's files as the default plan needs them (pure input, so the plan is testable without a disk). */
export interface CaseListing {
  /** conf/ YAML and TOML files: name -> text. */
  conf: Record<string, string>;
  /** data/ file names. */
  data: string[];
}

export function readCaseListing(dir: string): CaseListing {
  const conf: Record<string, string> = {};
  const confDir = join(dir, 'conf');
  if (existsSync(confDir)) {
    for (const f of readdirSync(confDir).sort())
      if (/\.(ya?ml|toml)$/.test(f)) conf[f] = readFileSync(join(confDir, f), 'utf8');
  }
  const dataDir = join(dir, 'data');
  return {
    conf,
    data: existsSync(dataDir)
      ? readdirSync(dataDir)
          .filter((f) => f.endsWith('.sql'))
          .sort()
      : [],
  };
}

// ------------------------------------------------------------------------------------------ the case's files

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []);

export interface DataFile {
  file: string;
  kind: 'prepare' | 'increment';
  /** N of dbN (1-based upstream); undefined for `db.*.sql`. */
  n?: number;
  /** Position among the increments in DM's order: increment0 = 0, increment = 0.5, incrementN = N. */
  order: number;
}

/** `dbN.prepare.sql`, `dbN.increment[N].sql` (also `db.`, `sourceN.` and `increment.N`, as some DM cases write them). */
const DATA_RE = /^(?:db|source)(\d*)\.(prepare|increment)\.?(\d*)\.sql$/;

export function parseDataFile(file: string): DataFile | undefined {
  const m = DATA_RE.exec(file);
  if (!m) return undefined;
  const kind = m[2] as 'prepare' | 'increment';
  const suffix = m[3]!;
  // prepare2 and the like belong to a second flow of run.sh (expression_filter's dm-task2), not to the core.
  if (kind === 'prepare' && suffix !== '') return undefined;
  return { file, kind, ...(m[1] ? { n: Number(m[1]) } : {}), order: suffix === '' ? 0.5 : Number(suffix) };
}

export interface SourceFile {
  file: string;
  sourceId: string;
  upstream: number;
}

export function sourceFiles(l: CaseListing): SourceFile[] {
  return Object.entries(l.conf)
    .filter(([f]) => /^source.*\.ya?ml$/.test(f))
    .map(([file, text]) => ({
      file,
      sourceId: String(obj(readYaml(text))['source-id'] ?? ''),
      upstream: upstreamOfSource(file, text),
    }));
}

export interface TaskFile {
  file: string;
  name: string;
  /** task-mode as run.sh first starts it (task-mode-placeholder: all). */
  mode: string;
  sourceIds: string[];
  /**
   * Downstream schemas it can write: routes' target schemas, and the block-allow-list's databases (names or DM
   * wildcards, which unrouted tables keep); undefined when its block-allow-list does not limit them (any).
   */
  targetSchemas?: string[];
}

const WILDCARD = /[*?[\]~]/;

export function taskFiles(l: CaseListing): TaskFile[] {
  const out: TaskFile[] = [];
  for (const [file, text] of Object.entries(l.conf)) {
    if (!/\.ya?ml$/.test(file)) continue;
    let t: Obj;
    try {
      t = obj(readYaml(text));
    } catch {
      continue;
    }
    if (t['name'] === undefined || !Array.isArray(t['mysql-instances'])) continue;
    const instances = (t['mysql-instances'] as unknown[]).map(obj);
    const routes = obj(t['routes']);
    const lists = { ...obj(t['black-white-list']), ...obj(t['block-allow-list']) };
    let any = false;
    const names = new Set<string>();
    for (const i of instances) {
      for (const r of strs(i['route-rules'])) {
        const target = obj(routes[r])['target-schema'];
        if (typeof target === 'string' && target !== '') names.add(target);
      }
      const ba = obj(lists[String(i['block-allow-list'] ?? i['black-white-list'] ?? '')]);
      const dbs = [
        ...strs(ba['do-dbs']),
        ...(Array.isArray(ba['do-tables']) ? ba['do-tables'].map((d) => String(obj(d)['db-name'] ?? '')) : []),
      ];
      if (dbs.length === 0 || dbs.includes('')) any = true;
      dbs.forEach((d) => names.add(d));
    }
    const mode = String(t['task-mode'] ?? 'all');
    out.push({
      file,
      name: String(t['name']),
      mode: mode === 'task-mode-placeholder' ? 'all' : mode,
      sourceIds: instances.map((i) => String(i['source-id'] ?? '')),
      ...(any ? {} : { targetSchemas: [...names] }),
    });
  }
  return out;
}

export interface DiffFile {
  file: string;
  /** Upstreams (1-based) its data sources are, by DM's CI ports; empty when none is. */
  upstreams: number[];
  /** dm-addr form: the task it asks DM about. */
  dmTask?: string;
  check: TableFilter;
}

export function diffFiles(l: CaseListing): DiffFile[] {
  const out: DiffFile[] = [];
  for (const [file, text] of Object.entries(l.conf)) {
    if (!file.endsWith('.toml')) continue;
    let doc: Obj;
    try {
      doc = parseToml(text) as Obj;
    } catch {
      continue;
    }
    const task = obj(doc['task']);
    if (!Array.isArray(task['target-check-tables'])) continue;
    const sources = obj(doc['data-sources']);
    const ports = strs(task['source-instances']).map((n) => Number(obj(sources[n])['port']));
    const upstreams = [
      ...new Set(ports.flatMap((p) => (p === DM_CI_PORTS.upstream1 ? [1] : p === DM_CI_PORTS.upstream2 ? [2] : []))),
    ];
    out.push({
      file,
      upstreams,
      check: parseTableFilter(strs(task['target-check-tables']), false),
      ...(doc['dm-task'] !== undefined ? { dmTask: String(doc['dm-task']) } : {}),
    });
  }
  return out;
}

// ------------------------------------------------------------------------------------------ matching

/** What a file name says beyond its kind: diff_relay_config.toml / dm-task-relay.yaml -> ["relay"], diff_config.toml -> []. */
function nameTag(file: string, kind: 'diff' | 'task'): string[] {
  const stem = file.replace(/\.(toml|ya?ml)$/, '').toLowerCase();
  const words = kind === 'diff' ? ['diff', 'config'] : ['dm', 'task'];
  return stem.split(/[-_.]+/).filter((w) => w !== '' && !words.includes(w));
}

/** The schema part of each including rule of a sync-diff table filter, when it is a plain name (else undefined). */
function literalSchemas(rules: string[]): string[] | undefined {
  const out: string[] = [];
  for (const raw of rules) {
    const r = raw.trim();
    if (r.startsWith('!')) continue;
    const q = r[0] === '"' || r[0] === '`' ? r[0] : undefined;
    const schema = q ? r.slice(1, r.indexOf(q, 1)) : r.slice(0, r.indexOf('.') < 0 ? r.length : r.indexOf('.'));
    if (!q && (r.startsWith('/') || WILDCARD.test(schema) || schema.includes('\\'))) return undefined;
    out.push(schema);
  }
  return out;
}

/** Whether the task can write a schema the diff config checks (see TaskFile.targetSchemas). */
function writesChecked(t: TaskFile, d: DiffFile): boolean {
  if (!t.targetSchemas) return true;
  const checked = literalSchemas(d.check.rules);
  return t.targetSchemas.some((s) => {
    if (!WILDCARD.test(s)) return d.check.mayMatchSchema(s);
    // A DM wildcard of the block-allow-list against the names the config checks (a pattern there: maybe).
    return !checked || checked.some((c) => wildcard(s, false).test(c));
  });
}

/** The tasks a diff config belongs to (see the file comment, step 3). */
export function tasksOfDiff(d: DiffFile, tasks: TaskFile[], upstreamsOf: (t: TaskFile) => number[]): TaskFile[] {
  if (d.dmTask !== undefined) return tasks.filter((t) => t.name === d.dmTask);
  let c = tasks.filter((t) => d.upstreams.length === 0 || upstreamsOf(t).some((u) => d.upstreams.includes(u)));
  c = c.filter((t) => writesChecked(t, d));
  // A config named for a variant (diff_relay_config.toml) goes with the tasks named alike (dm-task-relay.yaml;
  // regexpr_diff_config.toml: regexpr-task.yaml and regexpr-task-lightning.yaml); a plain diff_config.toml with
  // every task that fits (all_mode and safe_mode compare several tasks with it).
  const tag = nameTag(d.file, 'diff');
  const named = tag.length === 0 ? [] : c.filter((t) => tag.every((w, i) => nameTag(t.file, 'task')[i] === w));
  return named.length ? named : c;
}

// ------------------------------------------------------------------------------------------ the plan

const fileStep = (on: number, file: string): Step => ({ kind: 'file', on: on as 1 | 2, file });

export function defaultPlan(name: string, dir: string): CasePlan {
  return buildDefaultPlan(name, readCaseListing(dir));
}

export function buildDefaultPlan(name: string, l: CaseListing): CasePlan {
  const sources = sourceFiles(l);
  const tasks = taskFiles(l).sort((a, b) => a.file.localeCompare(b.file));
  const diffs = diffFiles(l);
  const data = l.data.map((f) => ({ f, d: parseDataFile(f) }));
  const known = data.flatMap((x) => (x.d ? [x.d] : []));
  const downPrepare = l.data.includes('tidb.prepare.sql');
  const other = data.filter((x) => !x.d && x.f !== 'tidb.prepare.sql').map((x) => x.f);

  const upstreamsOf = (t: TaskFile): number[] =>
    [...new Set(t.sourceIds.flatMap((id) => sources.filter((s) => s.sourceId === id).map((s) => s.upstream)))].sort();
  const diffsOf = new Map<string, string[]>();
  const unmatched: string[] = [];
  for (const d of diffs) {
    const owners = tasksOfDiff(d, tasks, upstreamsOf);
    if (owners.length === 0) unmatched.push(d.file);
    for (const t of owners) diffsOf.set(t.file, [...(diffsOf.get(t.file) ?? []), d.file]);
  }

  const scenarios: Scenario[] = [];
  for (const t of tasks) {
    const ups = upstreamsOf(t);
    const notes: string[] = [];
    // Where each data file runs for this task (undefined: not for this task).
    const numbers = [...new Set(known.flatMap((d) => (d.n === undefined ? [] : [d.n])))];
    const remap = ups.length === 1 && !numbers.includes(ups[0]!) && numbers.length === 1 ? numbers[0] : undefined;
    const where = (d: DataFile): number | undefined => {
      if (d.n === undefined) return ups.length === 1 ? ups[0] : 1;
      if (ups.includes(d.n)) return d.n;
      if (d.n === remap) return ups[0];
      return undefined;
    };
    if (remap !== undefined)
      notes.push(
        `data/db${remap}.*.sql run on upstream ${ups[0]}, the only one ${t.file} reads (as run.sh does for a task on another source)`,
      );
    const skipped = known.filter((d) => where(d) === undefined).map((d) => d.file);
    if (skipped.length)
      notes.push(
        `not run for this task (it reads upstream ${ups.join(' and ')}): ${skipped.map((f) => `data/${f}`).join(', ')}`,
      );
    if (other.length)
      notes.push(`not run by the default plan (run.sh decides when): ${other.map((f) => `data/${f}`).join(', ')}`);
    const byUpstream = (a: DataFile, b: DataFile): number =>
      (where(a) ?? 0) - (where(b) ?? 0) || a.file.localeCompare(b.file);
    const prepare = known.filter((d) => d.kind === 'prepare' && where(d) !== undefined).sort(byUpstream);
    const increments = known.filter((d) => d.kind === 'increment' && where(d) !== undefined);
    const orders = [...new Set(increments.map((d) => d.order))].sort((a, b) => a - b);
    const mine = diffsOf.get(t.file) ?? [];
    if (mine.length === 0)
      notes.push(
        `no sync-diff config belongs to this task${unmatched.length ? ` (${unmatched.join(', ')} fit no task)` : ''}: only catching up is checked`,
      );
    const fullOnly = t.mode === 'full';
    if (fullOnly && increments.length)
      notes.push(`task-mode full: the increment files are not part of this task's run`);
    const hasIncrements = !fullOnly && orders.length > 0;
    const compare = (emptyOk: boolean): Step[] =>
      mine.map((file): Step => (emptyOk ? { kind: 'diff', file, emptyOk } : { kind: 'diff', file }));

    const steps: Step[] = [
      ...(downPrepare ? [{ kind: 'file', on: 'down', file: 'tidb.prepare.sql' } as Step] : []),
      ...prepare.map((d) => fileStep(where(d)!, d.file)),
      { kind: 'sources' },
      { kind: 'start', removeMeta: true },
      { kind: 'caughtUp' },
      // Nothing prepared: the tables come from the increments, compare after them.
      ...(prepare.length || !hasIncrements ? compare(hasIncrements) : []),
      ...(hasIncrements
        ? orders.flatMap((o): Step[] => [
            ...increments
              .filter((d) => d.order === o)
              .sort(byUpstream)
              .map((d) => fileStep(where(d)!, d.file)),
            { kind: 'caughtUp' },
            ...compare(false),
          ])
        : []),
    ];

    // Alternatives: one scenario per choice of source file for each source-id the task reads with several files.
    let choices: string[][] = [[]];
    for (const id of [...new Set(t.sourceIds)]) {
      const files = sources
        .filter((s) => s.sourceId === id)
        .map((s) => s.file)
        .sort();
      if (files.length === 0) continue; // the runner's preflight names the missing source
      choices = choices.flatMap((c) => files.map((f) => [...c, f]));
    }
    const alternatives = t.sourceIds.some((id) => sources.filter((s) => s.sourceId === id).length > 1);
    for (const chosen of choices) {
      scenarios.push({
        task: t.file,
        label: `default plan${alternatives ? ` with ${chosen.join(', ')}` : ''}`,
        sourceFiles: chosen,
        steps,
        notes: [
          `default plan: ${[downPrepare ? 'tidb.prepare.sql' : '', ...prepare.map((d) => d.file)].filter(Boolean).join(', ') || 'no prepare file'} -> start -> ` +
            `${
              hasIncrements
                ? orders
                    .map((o) =>
                      increments
                        .filter((d) => d.order === o)
                        .map((d) => d.file)
                        .join(' + '),
                    )
                    .join(' -> ')
                : 'no increment'
            }; ` +
            `compared with ${mine.join(', ') || 'nothing'}`,
          ...notes,
        ],
      });
    }
  }
  return { name, scenarios };
}
