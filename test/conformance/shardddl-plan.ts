/**
 * Plans read from the run.sh of DM's shardddl* cases (dm/tests/shardddl1…4, shardddl_optimistic): each `DM_X`
 * function's `run_case X "<task conf>" "init_table 111 212…" "clean_table" "<mode>"` becomes a scenario on a fresh
 * sandbox: the tables init_table creates (shardddl_lib.sh: digit 1 the source, 2 the database, 3 the table), start-task
 * --remove-meta on conf/<task conf>.yaml, the sync unit, then the lines of `DM_X_CASE` with the mode as $1:
 *
 *   run_sql_source1/2, run_sql_both_source, run_sql_tidb   -> the statement on that server
 *   check_sync_diff … [N] ["fail"]                         -> wait until synced, compare (or: must differ now)
 *   run_sql_tidb_with_retry "Q" "col: v"                   -> the downstream's first value must become v
 *   query-status … "\"synced\": true" / "… not supported"  -> wait until synced / the task must pause
 *   check_log_contain_with_retry, echo, sleep              -> left out (DM's log lines, timing)
 *   if [[ "$1" = "mode" ]]; then … else … fi               -> the branch for this mode
 *
 * A case with any other line (worker restarts, failpoints, lock commands…) is skipped, naming the line: those need a
 * hand plan.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CasePlan, On, Scenario, Step } from './plan.ts';
import { caughtUp, expectDown, sources, sql, start } from './plan-steps.ts';

const VARS: Record<string, string> = {
  shardddl: 'shardddl',
  shardddl1: 'shardddl1',
  shardddl2: 'shardddl2',
  tb1: 'tb1',
  tb2: 'tb2',
  tb3: 'tb3',
  tb4: 'tb4',
  tb: 'tb',
  t_1: 't_1',
};

/** The words of a shell line: double-quoted strings (with \" and \` unescaped) and bare words. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line))
    out.push(m[1] !== undefined ? m[1].replace(/\\(["`$\\])/g, '$1') : (m[2] ?? m[3]!));
  return out;
}

function functions(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const re = /^function (\w+)\(\) \{\n([\s\S]*?)\n\}/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) out.set(m[1]!, m[2]!.split('\n'));
  return out;
}

const ON: Record<string, On> = {
  run_sql_source1: 1,
  run_sql_source2: 2,
  run_sql_both_source: 'ups',
  run_sql_tidb: 'down',
};

/** The steps of a DM_X_CASE body for `args` ($1…), or the first line it cannot reproduce. */
function translate(body: string[], args: string[]): { steps: Step[]; omitted: string[] } | { unsupported: string } {
  const steps: Step[] = [];
  const omitted = new Set<string>();
  // if/else/fi: a stack of "this branch runs".
  const live: boolean[] = [];
  const on = () => live.every(Boolean);
  for (const raw of body) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const cond = /^if \[\[ "\$(\d)" (?:=|==) "([^"]*)" \]\]; then$/.exec(line);
    if (cond) {
      live.push(args[Number(cond[1]) - 1] === cond[2]);
      continue;
    }
    if (line === 'else') {
      live.push(!live.pop());
      continue;
    }
    if (line === 'fi') {
      live.pop();
      continue;
    }
    if (!on()) continue;
    const w = words(line);
    const cmd = w[0]!;
    if (ON[cmd] !== undefined) {
      steps.push(sql(ON[cmd]!, w[1]!));
    } else if (cmd === 'check_sync_diff') {
      if (w.includes('fail')) steps.push({ kind: 'diff', file: 'diff_config.toml', mustFail: true });
      else steps.push(caughtUp, { kind: 'diff', file: 'diff_config.toml' });
    } else if (cmd === 'run_sql_tidb_with_retry') {
      const m = /^[^:]+: (.*)$/.exec(w[2] ?? '');
      if (!m) return { unsupported: line };
      steps.push(expectDown(w[1]!, m[1]!));
    } else if (cmd === 'run_dm_ctl_with_retry' && w[3] === 'query-status test') {
      const expects = w.slice(4).filter((x) => !/^\d+$/.test(x));
      if (expects.every((x) => ['"result": true', '"synced": true', 'Running', '"stage": "Running"'].includes(x)))
        steps.push(caughtUp);
      else if (expects.some((x) => /not supported|Unsupported|Error|error|conflict/.test(x)))
        steps.push({ kind: 'expectPaused', dmMessage: expects.filter((x) => x !== '"result": true').join('; ') });
      else return { unsupported: line };
    } else if (cmd === 'check_log_contain_with_retry' || cmd === 'echo' || cmd === 'sleep') {
      omitted.add(cmd === 'check_log_contain_with_retry' ? "DM's log greps" : `${cmd} lines`);
    } else return { unsupported: line };
  }
  return { steps, omitted: [...omitted] };
}

/**
 * init_table 111 212 …: `create table shardddl<db>.tb<t> (id int primary key)` on source <s>; or run.sh's own
 * statements (`run_sql_source1 \"create table …\"; run_sql_source2 …`).
 */
function initSteps(cmd: string): Step[] | undefined {
  const w = cmd.trim().split(/\s+/);
  if (w[0] !== 'init_table') {
    const out: Step[] = [];
    const re = /(run_sql_source[12]|run_sql_both_source|run_sql_tidb) "((?:[^"\\]|\\.)*)"/g;
    for (let m = re.exec(cmd); m; m = re.exec(cmd)) out.push(sql(ON[m[1]!]!, m[2]!.replace(/\\(["`$\\])/g, '$1')));
    const rest = cmd.replace(re, '').replace(/[;\s]/g, '');
    return out.length && rest === '' ? out : undefined;
  }
  const out: Step[] = [];
  for (const code of w.slice(1)) {
    if (!/^[12][12]\d$/.test(code)) return undefined;
    out.push(sql(Number(code[0]) as 1 | 2, `create table shardddl${code[1]}.tb${code[2]} (id int primary key)`));
  }
  return out;
}

/** The scenarios of a shardddl case folder's run.sh; undefined when the folder has none to read. */
export function shardddlPlan(name: string, dir: string): CasePlan | undefined {
  const path = join(dir, 'run.sh');
  if (!/^shardddl/.test(name) || !existsSync(path)) return undefined;
  let text = readFileSync(path, 'utf8').replace(/\\\n\s*/g, ' ');
  text = text.replace(/\$\{(\w+)\}/g, (all, v: string) => VARS[v] ?? all);
  const fns = functions(text);
  const scenarios: Scenario[] = [];
  for (const [fn, body] of fns) {
    if (!/^DM_\w+$/.test(fn) || fn.endsWith('_CASE')) continue;
    // Failpoints or worker restarts around the cases: DM's internals, not reproduced.
    const around = body.find((l) => /GO_FAILPOINTS|kill_process|restart_/.test(l))?.trim();
    for (const line of body) {
      const w = words(line.trim());
      if (w[0] !== 'run_case') continue;
      const [, id, conf, init, , ...args] = w;
      const label = `DM_${id} ${args.join(' ')}`.trim();
      const base = { task: `${conf}.yaml`, label };
      if (around) {
        scenarios.push({ ...base, steps: [], skip: `run.sh line not reproduced: ${around.slice(0, 120)}` });
        continue;
      }
      const caseBody = fns.get(`DM_${id}_CASE`);
      const initS = initSteps(init ?? '');
      if (!caseBody || !initS) {
        scenarios.push({ ...base, steps: [], skip: `run.sh: ${!caseBody ? `no DM_${id}_CASE` : `init "${init}"`}` });
        continue;
      }
      const t = translate(caseBody, args);
      if ('unsupported' in t) {
        scenarios.push({ ...base, steps: [], skip: `run.sh line not reproduced: ${t.unsupported.slice(0, 120)}` });
        continue;
      }
      scenarios.push({
        ...base,
        omitted: t.omitted,
        steps: [
          sql(
            'ups',
            'drop database if exists shardddl1',
            'drop database if exists shardddl2',
            'create database shardddl1',
            'create database shardddl2',
          ),
          ...initS,
          sources,
          start(true),
          { kind: 'syncUnit' },
          ...t.steps,
        ],
      });
    }
  }
  return scenarios.length ? { name, scenarios } : undefined;
}
