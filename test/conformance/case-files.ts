/**
 * A DM case's source and task files, made to point at the sandbox: only the connection fields change
 * (`from.host/port/user/password` of a source, `target-database.host/port/user/password` of a task), each spliced
 * into the original text in place, so every other byte — comments, order, line numbers in tsdm's errors — is the
 * file DM's suite uses. DM's run.sh placeholders are replaced the way run.sh's `sed` does.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isPair, isScalar, parseDocument } from 'yaml';
import type { DbEndpoint } from '../harness/index.ts';

export interface Conn {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Replaces the scalar at `path` with `value` in the text; adds the key (re-serialising) only if it is absent. */
function splice(text: string, edits: { path: string[]; value: string | number }[]): string {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const ranges: { start: number; end: number; value: string }[] = [];
  let missing = false;
  for (const e of edits) {
    const node = doc.getIn(e.path, true);
    const literal = typeof e.value === 'number' ? String(e.value) : JSON.stringify(e.value);
    if (isScalar(node) && node.range) ranges.push({ start: node.range[0], end: node.range[1], value: literal });
    else missing = true;
  }
  if (missing) {
    for (const e of edits) doc.setIn(e.path, e.value);
    return doc.toString();
  }
  let out = text;
  for (const r of ranges.sort((a, b) => b.start - a.start)) out = out.slice(0, r.start) + r.value + out.slice(r.end);
  return out;
}

/**
 * source.yaml -> the sandbox upstream. `keepUser`: the case creates this user itself (full_mode's dm_full,
 * incremental_mode's dm_incremental) with the password in the file, so user and password stay as written.
 */
export function rewriteSource(
  text: string,
  up: DbEndpoint,
  opts: { keepUser?: boolean; user?: string; password?: string } = {},
): { text: string; notes: string[] } {
  const notes: string[] = [];
  const edits: { path: string[]; value: string | number }[] = [
    { path: ['from', 'host'], value: up.host },
    { path: ['from', 'port'], value: up.port },
  ];
  // `flavor` describes the upstream server like its address does: DM's CI server is MySQL, the sandbox's is
  // MariaDB, so an explicit `flavor: mysql` would describe a server that is not there.
  if ((readYaml(text) as { flavor?: unknown }).flavor === 'mysql') {
    edits.push({ path: ['flavor'], value: 'mariadb' });
    notes.push('source flavor mysql (DM CI server) set to mariadb (the sandbox server)');
  }
  if (!opts.keepUser) {
    edits.push({ path: ['from', 'user'], value: opts.user ?? up.user });
    edits.push({ path: ['from', 'password'], value: opts.password ?? up.password });
  }
  return { text: splice(text, edits), notes };
}

export function rewriteTask(text: string, down: DbEndpoint): { text: string; notes: string[] } {
  const stripped = stripTidbSession(text);
  return {
    text: splice(stripped.text, [
      { path: ['target-database', 'host'], value: down.host },
      { path: ['target-database', 'port'], value: down.port },
      { path: ['target-database', 'user'], value: down.user },
      { path: ['target-database', 'password'], value: down.password },
    ]),
    notes: stripped.removed.length
      ? [
          `target-database.session: ${stripped.removed.join(', ')} exist only in TiDB and are commented out for the MariaDB downstream (it rejects unknown variables, as it would from DM)`,
        ]
      : [],
  };
}

/**
 * `target-database.session` is part of the target's connection block; the `tidb_*` variables DM's cases set there
 * exist only in TiDB. They become comment lines (so every other line keeps its number); the `session:` key too
 * when nothing else is left in it.
 */
export function stripTidbSession(text: string): { text: string; removed: string[] } {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const target = doc.get('target-database', true);
  if (!isMap(target)) return { text, removed: [] };
  const sessionPair = target.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === 'session');
  const session = sessionPair?.value;
  if (!sessionPair || !isMap(session)) return { text, removed: [] };
  const lineOf = (offset: number): number => text.slice(0, offset).split('\n').length - 1;
  const lines = text.split('\n');
  const removed: string[] = [];
  const comment = (from: number, to: number): void => {
    for (let l = from; l <= to; l++) lines[l] = lines[l]!.replace(/^(\s*)(\S)/, '$1# $2');
  };
  for (const p of session.items) {
    if (!isPair(p) || !isScalar(p.key) || !String(p.key.value).toLowerCase().startsWith('tidb_')) continue;
    const k = p.key as { range?: [number, number, number] };
    const v = p.value as { range?: [number, number, number] } | null;
    if (!k.range) continue;
    comment(lineOf(k.range[0]), lineOf(v?.range ? v.range[1] : k.range[1]));
    removed.push(String(p.key.value));
  }
  if (removed.length === session.items.length) {
    const k = sessionPair.key as { range?: [number, number, number] };
    if (k.range) comment(lineOf(k.range[0]), lineOf(k.range[0]));
  }
  return { text: lines.join('\n'), removed };
}

/** Value of a top-level or nested key as written (for reading a file without tsdm's loader). */
export function readYaml(text: string): unknown {
  return parseDocument(text).toJS();
}

export function sourcePort(text: string): number | undefined {
  const doc = parseDocument(text);
  const from = doc.get('from', true);
  if (!isMap(from)) return undefined;
  const p = Number(from.get('port'));
  return Number.isFinite(p) ? p : undefined;
}

export function sourceUser(text: string): { user: string; password: string } {
  const v = readYaml(text) as { from?: { user?: unknown; password?: unknown } };
  return { user: String(v.from?.user ?? ''), password: String(v.from?.password ?? '') };
}

/** DM's CI addresses of its servers (dm/tests/_utils/env_variables). */
export const DM_CI_PORTS = { upstream1: 3306, upstream2: 3307, tidb: 4000 } as const;

/**
 * Which upstream (1-based) a case's source file describes: DM's CI port says it (3306 is MYSQL_PORT1, 3307
 * MYSQL_PORT2); a file with another port is numbered by its name (source2.yaml, source1_gtid.yaml).
 */
export function upstreamOfSource(file: string, text: string): number {
  const port = sourcePort(text);
  if (port === DM_CI_PORTS.upstream1) return 1;
  if (port === DM_CI_PORTS.upstream2) return 2;
  return Number(/(\d+)/.exec(file)?.[1] ?? 1);
}

/** What run.sh reads from an upstream to fill its binlog placeholders. */
export interface UpstreamFacts {
  /** First file of SHOW BINARY LOGS (run.sh get_binlog_name). */
  firstBinlog: string;
  /** The GTID set of "nothing executed yet": run.sh's `$uuid:0`, in MariaDB's form domain-server_id-0. */
  emptyGtid: string;
}

/**
 * DM's placeholders and the value run.sh's first `sed` gives each (dm/tests/<case>/run.sh at tiflow c7b2588ef6):
 *  - `binlog-name-placeholder-N`, `binlog-pos-placeholder-N`, `binlog-gtid-placeholder-N`: the start of upstream N's
 *    binlog (its first file, position 4, `uuid:0`), as incremental_mode and adjust_gtid fill them; without `-N`
 *    (incremental_mode's source files) the upstream of the file itself (`own`, 1-based);
 *  - `task-mode-placeholder`: `all` (adjust_gtid's first start); `import-mode-placeholder`: `sql` (extend_column's
 *    first run); `database-placeholder` in data files: `ha_test` (ha_cases_lib.sh's default database).
 * `range-placeholder` only appears in a comment of diff configs (a sed turns it into a range in one flow).
 */
export function runShPlaceholders(ups: UpstreamFacts[], own = 1): Record<string, string> {
  const out: Record<string, string> = {
    'task-mode-placeholder': 'all',
    'import-mode-placeholder': 'sql',
    'database-placeholder': 'ha_test',
  };
  ups.forEach((u, i) => {
    out[`binlog-name-placeholder-${i + 1}`] = u.firstBinlog;
    out[`binlog-pos-placeholder-${i + 1}`] = '4';
    out[`binlog-gtid-placeholder-${i + 1}`] = u.emptyGtid;
  });
  const mine = ups[own - 1] ?? ups[0];
  if (mine) {
    out['binlog-name-placeholder'] = mine.firstBinlog;
    out['binlog-pos-placeholder'] = '4';
    out['binlog-gtid-placeholder'] = mine.emptyGtid;
  }
  return out;
}

/** run.sh's `sed -i "s/PLACEHOLDER/value/g"`, longest names first (binlog-gtid-placeholder-1 before binlog-gtid-placeholder). */
export function replacePlaceholders(text: string, values: Record<string, string>): string {
  let out = text;
  for (const k of Object.keys(values).sort((a, b) => b.length - a.length)) out = out.replaceAll(k, values[k]!);
  return out;
}

/** Placeholders a text still contains (a case whose run.sh value we do not know fails loudly, never silently). */
export function placeholdersIn(text: string): string[] {
  return [...new Set(text.match(/[a-z][a-z-]*-placeholder(?:-\d+)?/g) ?? [])];
}

/**
 * What a case folder holds, as one short hash: every file under conf/ and data/ (path and bytes). A hand plan
 * encodes one run.sh for one set of files; the same name with other files is another case.
 */
export function caseFingerprint(dir: string): string {
  const h = createHash('sha256');
  const walk = (rel: string): void => {
    const abs = join(dir, rel);
    if (!existsSync(abs)) return;
    for (const e of readdirSync(abs).sort()) {
      const r = `${rel}/${e}`;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else
        h.update(`${r}\0`)
          .update(readFileSync(join(dir, r)))
          .update('\0');
    }
  };
  walk('conf');
  walk('data');
  return h.digest('hex').slice(0, 16);
}
