/**
 * Runs one DM case folder: a preflight of every scenario's files through tsdm's own config loaders (the first
 * thing `dmctl` does with them), then — if any scenario can run — one sandbox (two upstream MariaDBs, a
 * downstream, NATS) for the whole case. Each scenario gets the sandbox reset, its own cluster name and agent,
 * and its steps in order; the first failing step ends it with a reason that says whose problem it is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { loadSourceConfig, loadTaskConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';
import { startSandbox, type MariaDBInstance, type Sandbox } from '../harness/index.ts';
import {
  placeholdersIn,
  readYaml,
  replacePlaceholders,
  rewriteSource,
  rewriteTask,
  runShPlaceholders,
  upstreamOfSource,
  type UpstreamFacts,
} from './case-files.ts';
import {
  Cluster,
  TsdmFailure,
  formatTsdmError,
  masterPosition,
  waitCaughtUp,
  waitPaused,
  waitSyncUnit,
} from './cluster.ts';
import { runDiff } from './data-check.ts';
import { DM_CI_PORTS, parseDiffConfig, parseRouteRule, type DiffEnv, type DmTaskView } from './diff-config.ts';
import type { CasePlan, On, Scenario, Step } from './plan.ts';
import { mysql8Gated, rewriteJsonArrows, splitSql } from './sql-script.ts';

export type Outcome = 'pass' | 'fail' | 'skip';

export interface ScenarioResult {
  caseName: string;
  task: string;
  label?: string;
  result: Outcome;
  seconds: number;
  /** Why it failed or was skipped (one line). */
  reason?: string;
  /** What was adapted or left out (MySQL-8-only statements, run.sh parts, rewrites). */
  notes: string[];
  /** Longer failure detail for the console (differences, agent log tail). */
  detail?: string;
}

export interface RunOptions {
  /** Only scenarios of this task file (conf/ name). */
  task?: string;
  log?: (line: string) => void;
  /**
   * Servers shared by the cases of one run (run.ts: started once, on first use; resetServers runs before each
   * scenario anyway). Absent: the case starts its own and stops them.
   */
  sandbox?: () => Promise<Sandbox>;
  /** Prefix of the scenarios' cluster names: unique per case when cases share one NATS (default `conf`). */
  clusterPrefix?: string;
}

/** The runner or the environment could not do a step: not tsdm's fault, and reported as such. */
class RunnerError extends Error {}
/** A difference between upstream and downstream, or a run.sh check that does not hold. */
class CheckFailure extends Error {
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];
const q = (id: string): string => '`' + id.replace(/`/g, '``') + '`';

// ------------------------------------------------------------------------------------------ preflight

/** Upstream facts for validation only (the real ones need the sandbox). */
const DUMMY_FACTS: UpstreamFacts[] = [
  { firstBinlog: 'binlog.000001', emptyGtid: '0-101-0' },
  { firstBinlog: 'binlog.000001', emptyGtid: '0-102-0' },
];

function confFiles(dir: string, re: RegExp): string[] {
  const conf = join(dir, 'conf');
  return existsSync(conf)
    ? readdirSync(conf)
        .filter((f) => re.test(f))
        .sort()
    : [];
}

/** The scenario's source files: its own choice (one of several with the same source-id) or every conf/source*.yaml. */
function scenarioSources(dir: string, sc: Scenario): string[] {
  return sc.sourceFiles ?? confFiles(dir, /^source.*\.ya?ml$/);
}

function describeConfigError(e: unknown): { reason: string; detail: string } {
  if (e instanceof DmError) {
    if (e.code === 'TSDM-10005') {
      const also = /\(also unsupported: ([^)]*)\)/.exec(e.message)?.[1];
      return { reason: `not supported: ${e.context.key ?? '?'}${also ? ` (also: ${also})` : ''}`, detail: e.format() };
    }
    return { reason: `config rejected: ${e.code} ${e.message}`, detail: e.format() };
  }
  return { reason: `config rejected: ${String(e)}`, detail: String(e) };
}

/** Returns a failure reason when tsdm's loaders reject the scenario's files as they will be used. */
function preflight(dir: string, sc: Scenario): { reason: string; detail: string } | undefined {
  const values = { ...runShPlaceholders(DUMMY_FACTS), ...sc.placeholders };
  const taskPath = join(dir, 'conf', sc.task);
  if (!existsSync(taskPath)) return { reason: `runner: ${sc.task} not found in ${dir}/conf`, detail: '' };
  const fake = {
    host: '127.0.0.1',
    port: 1,
    user: 'root',
    password: 'x',
    name: 'preflight',
  } as unknown as MariaDBInstance;
  const taskText = rewriteTask(replacePlaceholders(readFileSync(taskPath, 'utf8'), values), fake).text;
  const left = placeholdersIn(taskText);
  if (left.length) return { reason: `runner: no value for placeholder ${left.join(', ')} of ${sc.task}`, detail: '' };
  try {
    loadTaskConfig(taskText, taskPath);
  } catch (e) {
    return describeConfigError(e);
  }
  const ids = new Set<string>();
  for (const f of scenarioSources(dir, sc)) {
    const p = join(dir, 'conf', f);
    if (!existsSync(p)) return { reason: `runner: ${f} not found in ${dir}/conf`, detail: '' };
    const text = rewriteSource(
      replacePlaceholders(readFileSync(p, 'utf8'), {
        ...runShPlaceholders(DUMMY_FACTS, upstreamOfSource(f, readFileSync(p, 'utf8'))),
        ...sc.placeholders,
      }),
      fake,
    ).text;
    ids.add(String((readYaml(text) as { 'source-id'?: unknown })['source-id']));
    try {
      loadSourceConfig(text, p);
    } catch (e) {
      const d = describeConfigError(e);
      return { reason: `${f}: ${d.reason}`, detail: d.detail };
    }
  }
  const missing = taskInfo(taskText).sourceIds.filter((id) => !ids.has(id));
  if (missing.length)
    return {
      reason: `runner: ${sc.task} reads source ${missing.join(', ')}, which no source file of the scenario (${scenarioSources(dir, sc).join(', ') || 'none'}) defines`,
      detail: '',
    };
  return undefined;
}

// ------------------------------------------------------------------------------------------ scenario

interface TaskInfo {
  name: string;
  mode: string;
  sourceIds: string[];
  caseSensitive: boolean;
  routes: Record<string, unknown>;
  instances: { sourceId: string; routeRules: string[] }[];
}

function taskInfo(text: string): TaskInfo {
  // biome-ignore lint/suspicious/noExplicitAny: DM task YAML read untyped; only two keys are taken, each converted
  const t = readYaml(text) as Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: DM task YAML read untyped; only two keys are taken, each converted
  const instances = ((t['mysql-instances'] ?? []) as Record<string, any>[]).map((i) => ({
    sourceId: String(i['source-id']),
    routeRules: (i['route-rules'] ?? []).map(String),
  }));
  return {
    name: String(t.name),
    mode: String(t['task-mode'] ?? 'all'),
    sourceIds: instances.map((i) => i.sourceId),
    caseSensitive: t['case-sensitive'] === true,
    routes: (t.routes ?? {}) as Record<string, unknown>,
    instances,
  };
}

class ScenarioRun {
  readonly notes: string[] = [];
  private readonly work = mkdtempSync(join(tmpdir(), 'tsdm-conf-'));
  private cluster: Cluster | undefined;
  private facts: UpstreamFacts[] | undefined;
  /** source-id -> upstream index (0, 1), from the source files' ports. */
  private readonly sourceUpstream = new Map<string, number>();
  private task: TaskInfo | undefined;
  private taskPath = '';

  constructor(
    private readonly dir: string,
    private readonly sc: Scenario,
    private readonly sb: Sandbox,
    private readonly clusterName: string,
    private readonly log: (l: string) => void,
  ) {}

  private up(n: 1 | 2): MariaDBInstance {
    const u = this.sb.upstreams[n - 1];
    if (!u) throw new RunnerError(`the sandbox has no upstream ${n}`);
    return u;
  }

  private servers(on: On): MariaDBInstance[] {
    return on === 'ups' ? [...this.sb.upstreams] : on === 'down' ? [this.sb.downstream] : [this.up(on)];
  }

  /** run.sh's values for DM's placeholders in a file of upstream `own` (1-based; unsuffixed names mean it). */
  private async values(own = 1): Promise<Record<string, string>> {
    if (!this.facts) {
      const facts: UpstreamFacts[] = [];
      for (const u of this.sb.upstreams) {
        // run.sh get_binlog_name: the first file of SHOW BINARY LOGS; get_uuid + ":0" is MySQL's "nothing
        // executed", whose MariaDB form is domain-server_id-0.
        const logs = await u.query('SHOW BINARY LOGS');
        facts.push({ firstBinlog: String(logs[0]?.Log_name ?? ''), emptyGtid: `0-${u.serverId}-0` });
      }
      this.facts = facts;
    }
    return { ...runShPlaceholders(this.facts, own), ...this.sc.placeholders };
  }

  async run(): Promise<void> {
    try {
      this.cluster = await Cluster.start(this.sb, this.clusterName);
      for (const [i, step] of this.sc.steps.entries()) {
        try {
          await this.step(step);
        } catch (e) {
          const where = `step ${i + 1} (${stepName(step)})${step.why ? ` [${step.why}]` : ''}`;
          if (e instanceof TsdmFailure || e instanceof CheckFailure || e instanceof RunnerError) {
            e.message = `${where}: ${e.message}`;
            throw e;
          }
          throw new RunnerError(`${where}: ${(e as Error).message}`);
        }
      }
    } finally {
      await this.cluster?.stop().catch(() => undefined);
      rmSync(this.work, { recursive: true, force: true });
    }
  }

  private async step(s: Step): Promise<void> {
    const c = this.cluster!;
    switch (s.kind) {
      case 'sql':
        for (const db of this.servers(s.on))
          await this.runStatements(
            db,
            s.sql.map((sql, i) => ({ sql, line: i + 1 })),
            'run.sh statement',
            false,
            s.charset,
          );
        return;
      case 'file': {
        const path = join(this.dir, 'data', s.file);
        if (!existsSync(path)) throw new RunnerError(`data/${s.file} not found`);
        for (const db of this.servers(s.on)) {
          let text = readFileSync(path, 'utf8');
          // ha_cases_lib.sh's run_sql_file_withdb: sed s/database-placeholder/$db/ on the data file.
          if (placeholdersIn(text).length) {
            const own = typeof s.on === 'number' ? s.on : 1;
            const filled = replacePlaceholders(text, await this.values(own));
            if (filled !== text)
              this.note(
                `data/${s.file}: DM's placeholders filled as run.sh does (${placeholdersIn(text)
                  .filter((p) => !filled.includes(p))
                  .join(', ')})`,
              );
            text = filled;
          }
          let stmts: ReturnType<typeof splitSql>;
          try {
            stmts = splitSql(text);
          } catch (e) {
            throw new RunnerError(`data/${s.file}: ${(e as Error).message}`);
          }
          await this.runStatements(db, stmts, s.file, true);
        }
        return;
      }
      case 'sources':
        return this.createSources();
      case 'start':
        return this.startTask(s.removeMeta);
      case 'startFails':
        return this.startTask(s.removeMeta, s.expect);
      case 'caughtUp': {
        const task = this.task ?? this.fail('caughtUp before start');
        const heads = new Map<string, { name: string; pos: number }>();
        for (const id of task.sourceIds) {
          const idx = this.sourceUpstream.get(id);
          if (idx === undefined) throw new RunnerError(`task source ${id} is not one of the case's source files`);
          heads.set(id, await masterPosition(this.sb.upstreams[idx]!));
        }
        await waitCaughtUp(c, task.name, task.mode, heads);
        return;
      }
      case 'syncUnit':
        return waitSyncUnit(c, (this.task ?? this.fail('syncUnit before start')).name);
      case 'diff':
        return this.diff(s.file, s.edits ?? [], s.mustFail ?? false, s.emptyOk ?? false);
      case 'expect':
        return this.expect(s.on, s.sql, s.equals);
      case 'expectPaused': {
        const task = this.task ?? this.fail('expectPaused before start');
        const p = await waitPaused(c, task.name);
        if (!p)
          throw new TsdmFailure(
            `tsdm did not pause the task within 30 s; DM pauses here with "${s.dmMessage}"`,
            c.logTail(),
          );
        if (s.tsdmText && !formatTsdmError(p).includes(s.tsdmText))
          throw new TsdmFailure(`tsdm paused, but not with "${s.tsdmText}": ${formatTsdmError(p)}`, c.logTail());
        this.notes.push(`paused as DM does (DM: "${s.dmMessage}"; tsdm: ${formatTsdmError(p)})`);
        return;
      }
      case 'binlogSkip': {
        const task = this.task ?? this.fail('binlogSkip before start');
        const at = (await c.status(task.name)).find((v) => v.stage === 'Paused' && v.error)?.error?.context?.position;
        const r = await c.ctl(['binlog', 'skip', task.name, '--json']);
        if (r.code !== 0)
          throw new TsdmFailure(
            `dmctl binlog skip failed (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(0, 400)}`,
          );
        // The skip is applied when the subtask runs past that event: not paused there any more.
        const t0 = Date.now();
        for (;;) {
          const views = await c.status(task.name).catch(() => []);
          if (!views.some((v) => v.stage === 'Paused' && v.error?.context?.position === at)) return;
          if (Date.now() - t0 > 30_000)
            throw new TsdmFailure(`still paused at ${at} 30 s after dmctl binlog skip`, c.logTail());
          await new Promise((res) => setTimeout(res, 300));
        }
      }
      case 'resume': {
        const task = this.task ?? this.fail('resume before start');
        const r = await c.ctl(['resume-task', task.name, '--json']);
        if (r.code !== 0)
          throw new TsdmFailure(
            `dmctl resume-task failed (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(0, 400)}`,
          );
        return;
      }
    }
  }

  private fail(msg: string): never {
    throw new RunnerError(msg);
  }

  /** Statements one at a time on one new connection (session state carries, as in a `mysql` client session). */
  private async runStatements(
    db: MariaDBInstance,
    stmts: { sql: string; line: number }[],
    origin: string,
    fromFile: boolean,
    charset?: string,
  ): Promise<void> {
    const conn = await db.connect(charset ? { charset } : undefined);
    try {
      for (const st of stmts) {
        let sql = st.sql;
        if (fromFile) {
          const gated = mysql8Gated(sql);
          if (gated) {
            this.note(`not run: ${origin}:${st.line} ${gated}`);
            continue;
          }
          const only = this.sc.mysql8Only?.find((m) => m.file === origin && m.match.test(sql));
          if (only) {
            this.note(`not run: ${origin}:${st.line} \`${sql.replace(/\s+/g, ' ').slice(0, 60)}…\` (${only.reason})`);
            continue;
          }
          const rewritten = rewriteJsonArrows(sql);
          if (rewritten !== sql) {
            this.note(
              `${origin}:${st.line}: MySQL's -> / ->> JSON operators written as JSON_EXTRACT / JSON_UNQUOTE(JSON_EXTRACT()) (MariaDB has only the functions)`,
            );
            sql = rewritten;
          }
        }
        try {
          await conn.query(sql);
        } catch (e) {
          const err = e as { code?: string; message: string };
          throw new RunnerError(
            `${db.name} rejected ${origin}:${st.line} (${err.code ?? 'error'}: ${err.message}): ${sql.replace(/\s+/g, ' ').slice(0, 200)}`,
          );
        }
      }
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  }

  private note(n: string): void {
    if (!this.notes.includes(n)) this.notes.push(n);
  }

  private async createSources(): Promise<void> {
    for (const f of scenarioSources(this.dir, this.sc)) {
      const original = readFileSync(join(this.dir, 'conf', f), 'utf8');
      const idx = upstreamOfSource(f, original) - 1;
      const values = await this.values(idx + 1);
      const up = this.sb.upstreams[idx];
      if (!up) throw new RunnerError(`${f}: no upstream ${idx + 1} in the sandbox`);
      const user = (readYaml(original) as { from?: { user?: string } }).from?.user ?? 'root';
      const keepUser = this.sc.caseUsers?.includes(user) ?? false;
      const { text, notes } = rewriteSource(
        replacePlaceholders(original, values),
        up,
        this.sc.sourceUser ? { user: this.sc.sourceUser.user, password: this.sc.sourceUser.password } : { keepUser },
      );
      notes.forEach((n) => this.note(`${f}: ${n}`));
      if (keepUser) this.note(`${f}: keeps user ${user}, which the case creates`);
      if (this.sc.sourceUser) this.note(`${f}: user ${this.sc.sourceUser.user}, as run.sh switches it`);
      const sourceId = String((readYaml(text) as { 'source-id'?: string })['source-id']);
      this.sourceUpstream.set(sourceId, idx);
      const path = join(this.work, f);
      writeFileSync(path, text);
      const r = await this.cluster!.ctl(['operate-source', 'create', path, '--json']);
      if (r.code !== 0) {
        const err = r.json?.error;
        throw new TsdmFailure(
          `dmctl operate-source create ${f} failed (exit ${r.code}): ${err ? `${err.code} ${err.message}` : (r.stdout + r.stderr).trim()}`,
        );
      }
    }
  }

  private async startTask(removeMeta: boolean, mustFailWith?: string[]): Promise<void> {
    const values = await this.values();
    const { text, notes } = rewriteTask(
      replacePlaceholders(readFileSync(join(this.dir, 'conf', this.sc.task), 'utf8'), values),
      this.sb.downstream,
    );
    notes.forEach((n) => this.note(n));
    this.task = taskInfo(text);
    this.taskPath = join(this.work, basename(this.sc.task));
    writeFileSync(this.taskPath, text);
    const r = await this.cluster!.ctl([
      'start-task',
      this.taskPath,
      ...(removeMeta ? ['--remove-meta'] : []),
      '--json',
    ]);
    if (mustFailWith) {
      if (r.code === 0) throw new TsdmFailure('dmctl start-task accepted the task; DM rejects it in its precheck');
      const missing = mustFailWith.filter((m) => !(r.stdout + r.stderr).includes(m));
      if (missing.length)
        throw new TsdmFailure(
          `dmctl start-task failed, but without ${missing.map((m) => JSON.stringify(m)).join(', ')} (DM's precheck says so): ${(r.stdout + r.stderr).trim().slice(0, 400)}`,
        );
      this.note(`start-task refused as DM's precheck does (${mustFailWith.map((m) => `"${m}"`).join(', ')})`);
      return;
    }
    if (r.code === 0) return;
    const err = r.json?.error;
    if (err?.code === 'TSDM-10005') throw new TsdmFailure(`not supported: ${err.context?.key}: ${err.message}`);
    const checks = (r.json?.checks ?? [])
      .filter((c: { ok: boolean }) => !c.ok)
      .map(
        (c: { name: string; source?: string; error?: { code: string; message: string } }) =>
          `${c.name}${c.source ? ` (${c.source})` : ''}: ${c.error ? `${c.error.code} ${c.error.message}` : 'failed'}`,
      );
    throw new TsdmFailure(
      `dmctl start-task failed (exit ${r.code}): ${checks.length ? `precheck ${checks.join('; ')}` : err ? `${err.code} ${err.message}` : (r.stdout + r.stderr).trim()}`,
    );
  }

  private diffEnv(): DiffEnv {
    const resolve = (_name: string, _host: string, port: number) =>
      port === DM_CI_PORTS.upstream1
        ? this.sb.upstreams[0]
        : port === DM_CI_PORTS.upstream2
          ? this.sb.upstreams[1]
          : port === DM_CI_PORTS.tidb
            ? this.sb.downstream
            : undefined;
    const env: DiffEnv = { resolve };
    const task = this.task;
    if (task) {
      const view: DmTaskView = {
        caseSensitive: task.caseSensitive,
        target: this.sb.downstream,
        instances: task.instances.map((i) => ({
          sourceId: i.sourceId,
          endpoint: this.sb.upstreams[this.sourceUpstream.get(i.sourceId) ?? 0]!,
          routes: i.routeRules.map((r) => parseRouteRule(r, task.routes[r])),
        })),
      };
      env.dmTask = view;
    }
    return env;
  }

  private async diff(file: string, edits: [string, string][], mustFail: boolean, emptyOk: boolean): Promise<void> {
    const path = join(this.dir, 'conf', file);
    if (!existsSync(path)) throw new RunnerError(`conf/${file} not found`);
    let text = readFileSync(path, 'utf8');
    for (const [from, to] of edits) {
      if (!text.includes(from))
        throw new RunnerError(`${file}: run.sh's edit of ${JSON.stringify(from)} finds nothing`);
      text = text.replaceAll(from, to);
    }
    const spec = parseDiffConfig(text, file, this.diffEnv());
    let out = await runDiff(spec);
    if (emptyOk && out.empty) {
      this.log(`      ${file}: no table it checks exists yet on either side (they come from the increments)`);
      this.note(`${file} compared after the increments only: before them neither side has a table it checks`);
      return;
    }
    // sync-diff is retried by run.sh (check_sync_diff); a change applied just after the catch-up point shows up here.
    for (let i = 0; i < 3 && out.ok === mustFail; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      out = await runDiff(spec);
    }
    this.log(
      `      ${file}${edits.length ? ' (edited as run.sh)' : ''}: ${out.compared.join('; ') || 'no table pairs'}`,
    );
    if (mustFail) {
      if (out.ok)
        throw new CheckFailure(
          `${file} must show a difference here (run.sh expects sync-diff to fail), but every table is equal`,
        );
      return;
    }
    if (!out.ok) {
      const shown = out.diffs.slice(0, 6);
      throw new CheckFailure(
        `${file}: ${shown.join(' | ')}${out.diffs.length > shown.length ? ` | … ${out.diffs.length - shown.length} more` : ''}`,
        out.diffs.join('\n'),
      );
    }
  }

  private async expect(on: 1 | 2 | 'down', sqls: string[], equals: string): Promise<void> {
    const db = on === 'down' ? this.sb.downstream : this.up(on);
    const t0 = Date.now();
    let got = '';
    for (;;) {
      const conn = await db.connect();
      try {
        // biome-ignore lint/suspicious/noExplicitAny: rows of whatever shape the case's query returns
        let rows: any;
        for (const s of sqls) [rows] = await conn.query(s);
        const first = Array.isArray(rows) && rows[0] ? Object.values(rows[0])[0] : undefined;
        got = first === null ? 'NULL' : first === undefined ? '(no row)' : String(first);
      } catch (e) {
        got = `error ${(e as Error).message}`;
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
      if (got === equals) return;
      if (Date.now() - t0 > 10_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new CheckFailure(
      `${on === 'down' ? 'downstream' : `upstream ${on}`}: ${sqls[sqls.length - 1]} returned ${got}, run.sh expects ${equals}`,
    );
  }
}

function stepName(s: Step): string {
  switch (s.kind) {
    case 'sql':
      return `SQL on ${s.on}`;
    case 'file':
      return `data/${s.file} on ${s.on}`;
    case 'sources':
      return 'operate-source create';
    case 'start':
      return 'start-task';
    case 'startFails':
      return 'start-task (must fail)';
    case 'caughtUp':
      return 'wait until synced';
    case 'syncUnit':
      return 'wait for the sync unit';
    case 'diff':
      return `compare ${s.file}`;
    case 'expect':
      return 'check';
    case 'expectPaused':
      return 'expect pause';
    case 'resume':
      return 'resume-task';
    case 'binlogSkip':
      return 'binlog skip';
  }
}

// ------------------------------------------------------------------------------------------ case

function planNotes(sc: Scenario): string[] {
  return [...(sc.notes ?? []), ...(sc.omitted ?? []).map((o) => `left out of run.sh: ${o}`)];
}

async function resetServers(sb: Sandbox): Promise<void> {
  for (const db of [...sb.upstreams, sb.downstream]) {
    const schemas: { s: string }[] = await db.query(
      `SELECT SCHEMA_NAME AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN (${SYSTEM_SCHEMAS.map(() => '?').join(', ')})`,
      SYSTEM_SCHEMAS,
    );
    for (const { s } of schemas) await db.query(`DROP DATABASE ${q(s)}`);
    const users: { u: string; h: string; r: string }[] = await db.query(
      "SELECT User AS u, Host AS h, is_role AS r FROM mysql.user WHERE User NOT IN ('root', 'mariadb.sys', '')",
    );
    for (const { u, h, r } of users) await db.query(r === 'Y' ? `DROP ROLE ${q(u)}` : `DROP USER ${q(u)}@${q(h)}`);
    await db.query('SET GLOBAL sql_mode = DEFAULT');
    await db.query('SET GLOBAL time_zone = DEFAULT');
    if (db.upstream) await db.query('RESET MASTER');
  }
}

/** IANA zone names the scenario's SQL sets (`time_zone = 'Asia/Shanghai'`): a fresh datadir has no zone tables. */
function namedZones(dir: string, sc: Scenario): string[] {
  const texts = sc.steps.flatMap((s) =>
    s.kind === 'sql'
      ? s.sql
      : s.kind === 'file' && existsSync(join(dir, 'data', s.file))
        ? [readFileSync(join(dir, 'data', s.file), 'utf8')]
        : [],
  );
  return [
    ...new Set(
      texts.flatMap((t) =>
        [...t.matchAll(/time_zone\s*=\s*['"]([A-Za-z]+(?:\/[A-Za-z_+-]+)+)['"]/gi)].map((m) => m[1]!),
      ),
    ),
  ].filter((z) => existsSync(join('/usr/share/zoneinfo', z)));
}

/** Named zones into every server's time zone tables (a fresh datadir has none). */
async function loadTimeZones(sb: Sandbox, zones: string[]): Promise<void> {
  for (const db of [...sb.upstreams, sb.downstream]) {
    const c = await db.connect();
    try {
      await c.query('USE mysql');
      for (const z of zones) {
        // biome-ignore lint/suspicious/noExplicitAny: a one-column probe; mysql2 types rows loosely
        const [have] = await c.query<any[]>('SELECT 1 FROM time_zone_name WHERE Name = ?', [z]);
        if (have.length === 0)
          await c.query(
            execFileSync('mariadb-tzinfo-to-sql', [join('/usr/share/zoneinfo', z), z], { encoding: 'utf8' }),
          );
      }
    } finally {
      await c.end().catch(() => c.destroy());
    }
  }
}

/** Two upstreams, a downstream and NATS, as every scenario runs on them. */
export async function startCaseSandbox(log: (line: string) => void): Promise<Sandbox> {
  const t0 = Date.now();
  const sb = await startSandbox({ upstreams: 2 });
  log(`  sandbox up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return sb;
}

export async function runCase(
  caseName: string,
  dir: string,
  plan: CasePlan,
  opts: RunOptions = {},
): Promise<ScenarioResult[]> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const scenarios = plan.scenarios.filter((s) => !opts.task || s.task === opts.task);
  const results: ScenarioResult[] = [];
  const runnable: Scenario[] = [];
  for (const sc of scenarios) {
    const base = { caseName, task: sc.task, ...(sc.label ? { label: sc.label } : {}), notes: planNotes(sc) };
    if (sc.skip) {
      results.push({ ...base, result: 'skip', seconds: 0, reason: sc.skip });
      continue;
    }
    const bad = preflight(dir, sc);
    if (bad) {
      results.push({ ...base, result: 'fail', seconds: 0, reason: bad.reason, detail: bad.detail });
      log(`  FAIL ${caseName} ${sc.task}${sc.label ? ` (${sc.label})` : ''}: ${bad.reason}`);
      continue;
    }
    runnable.push(sc);
  }
  if (runnable.length === 0) return results;

  const sb = opts.sandbox ? await opts.sandbox() : await startCaseSandbox(log);
  try {
    const zones = [...new Set(runnable.flatMap((s) => [...(s.timeZones ?? []), ...namedZones(dir, s)]))];
    if (zones.length) await loadTimeZones(sb, zones);
    for (const [n, sc] of runnable.entries()) {
      const s0 = Date.now();
      const base = { caseName, task: sc.task, ...(sc.label ? { label: sc.label } : {}) };
      log(`  ${caseName} ${sc.task}${sc.label ? ` (${sc.label})` : ''}`);
      await resetServers(sb);
      const run = new ScenarioRun(dir, sc, sb, `${opts.clusterPrefix ?? 'conf'}${n + 1}`, log);
      let res: ScenarioResult;
      try {
        await run.run();
        res = { ...base, result: 'pass', seconds: 0, notes: [] };
      } catch (e) {
        const who = e instanceof TsdmFailure ? '' : e instanceof CheckFailure ? 'difference: ' : 'runner: ';
        res = {
          ...base,
          result: 'fail',
          seconds: 0,
          reason: `${who}${(e as Error).message}`,
          notes: [],
          detail: (e as TsdmFailure).detail,
        };
      }
      res.seconds = (Date.now() - s0) / 1000;
      res.notes = [...planNotes(sc), ...run.notes];
      log(`    ${res.result.toUpperCase()} in ${res.seconds.toFixed(1)} s${res.reason ? `: ${res.reason}` : ''}`);
      if (res.detail)
        log(
          res.detail
            .split('\n')
            .map((l) => `      | ${l}`)
            .join('\n'),
        );
      results.push(res);
    }
  } finally {
    if (!opts.sandbox) await sb.stop();
  }
  // Keep the plan's order in the report.
  return scenarios.map((sc) => results.find((r) => r.task === sc.task && r.label === sc.label)!).filter(Boolean);
}
