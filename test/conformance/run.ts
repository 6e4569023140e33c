/**
 * `npm run conformance`: runs DM's own integration scenarios (folders laid out like pingcap/tiflow
 * dm/tests/<case>/{conf,data}) against tsdm and writes docs/conformance.md.
 *
 *   tsx test/conformance/run.ts [--cases DIR] [--case NAME]... [--task FILE] [--report PATH | --no-report]
 *
 * Each case runs its hand-written plan (plans.ts, only for the folder it was written for) or the default plan
 * (default-plan.ts), derived from the folder's files as DM's suite names them.
 *
 * --cases   folder of case folders (default ../shared/dm-cases, relative to the repo root)
 * --case    only this case (repeat or comma-separate for several)
 * --task    only scenarios of this task file (e.g. dm-task.yaml)
 * --report  where to write the Markdown report (default docs/conformance.md); --no-report writes none
 * Exit code 1 when any scenario fails, 2 on bad usage.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planFor } from './plans.ts';
import { counts, renderConsoleTable, renderReport } from './report.ts';
import { runCase, startCaseSandbox, type ScenarioResult } from './runner.ts';
import type { Sandbox } from '../harness/index.ts';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_CASES_DIR = resolve(REPO_ROOT, '..', 'shared', 'dm-cases');

export interface ConformanceOptions {
  casesDir?: string;
  cases?: string[];
  task?: string;
  /** Path of the Markdown report; undefined writes none. */
  report?: string;
  log?: (line: string) => void;
}

export interface ConformanceRun {
  results: ScenarioResult[];
  totalSeconds: number;
  failed: number;
}

function caseFolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory() && existsSync(join(dir, n, 'conf')))
    .sort();
}

export async function runConformance(opts: ConformanceOptions = {}): Promise<ConformanceRun> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const dir = resolve(opts.casesDir ?? DEFAULT_CASES_DIR);
  if (!existsSync(dir)) throw new Error(`cases folder ${dir} does not exist`);
  const all = caseFolders(dir);
  const names = opts.cases?.length ? opts.cases : all;
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length) throw new Error(`no case folder ${unknown.join(', ')} in ${dir} (have: ${all.join(', ')})`);
  const t0 = Date.now();
  const results: ScenarioResult[] = [];
  const caseSeconds: Record<string, number> = {};
  // One set of servers for every case (each scenario resets them first): starting three mariadbd and a NATS per
  // case cost more than some cases. Scenario clusters are named per case, so no case sees another's records.
  let shared: Promise<Sandbox> | undefined;
  const sandbox = (): Promise<Sandbox> => (shared ??= startCaseSandbox(log));
  try {
    for (const [i, name] of names.entries()) {
      const c0 = Date.now();
      log(`== ${name}`);
      const { plan, note } = planFor(name, join(dir, name));
      log(`  ${note}`);
      if (plan.scenarios.length === 0)
        log('  no task file in conf/ (a YAML with name and mysql-instances): nothing to run');
      const rows = await runCase(name, join(dir, name), plan, {
        ...(opts.task ? { task: opts.task } : {}),
        log,
        sandbox,
        clusterPrefix: `conf${i + 1}_`,
      });
      // Only a plan that was not the case's own is worth a note in every row.
      if (note.startsWith('default plan: ')) rows.forEach((r) => r.notes.unshift(note));
      results.push(...rows);
      caseSeconds[name] = (Date.now() - c0) / 1000;
    }
  } finally {
    if (shared) await shared.then((sb) => sb.stop()).catch(() => undefined);
  }
  const totalSeconds = (Date.now() - t0) / 1000;
  const commitFile = join(dir, 'SOURCE_COMMIT');
  if (opts.report) {
    const argv = process.argv.slice(2).join(' ');
    const md = renderReport({
      results,
      totalSeconds,
      caseSeconds,
      casesDir: relative(REPO_ROOT, dir) || dir,
      command: `npm run conformance${argv ? ` -- ${argv}` : ''}`,
      ...(existsSync(commitFile) ? { sourceCommit: readFileSync(commitFile, 'utf8').trim() } : {}),
    });
    writeFileSync(opts.report, md);
    log(`report written to ${relative(process.cwd(), opts.report) || opts.report}`);
  }
  return { results, totalSeconds, failed: counts(results).fail };
}

function parseArgs(argv: string[]): ConformanceOptions & { help?: boolean } {
  const out: ConformanceOptions & { help?: boolean } = { report: join(REPO_ROOT, 'docs', 'conformance.md') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--cases':
        out.casesDir = resolve(value());
        break;
      case '--case':
        out.cases = [...(out.cases ?? []), ...value().split(',').filter(Boolean)];
        break;
      case '--task':
        out.task = value();
        break;
      case '--report':
        out.report = resolve(value());
        break;
      case '--no-report':
        delete out.report;
        break;
      case '--help':
      case '-h':
        out.help = true;
        break;
      default:
        throw new Error(`unknown argument ${a}`);
    }
  }
  return out;
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(
      `${(e as Error).message}\nusage: tsx test/conformance/run.ts [--cases DIR] [--case NAME]... [--task FILE] [--report PATH | --no-report]`,
    );
    return 2;
  }
  if (opts.help) {
    console.log(
      'usage: tsx test/conformance/run.ts [--cases DIR] [--case NAME]... [--task FILE] [--report PATH | --no-report]',
    );
    return 0;
  }
  try {
    const run = await runConformance(opts);
    const c = counts(run.results);
    console.log(
      `\n${renderConsoleTable(run.results)}\n\n${c.pass} passed, ${c.fail} failed, ${c.skip} skipped (${run.totalSeconds.toFixed(0)} s)`,
    );
    return run.failed > 0 ? 1 : 0;
  } catch (e) {
    console.error(`conformance: ${(e as Error).message}`);
    return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exit(await main());
}
