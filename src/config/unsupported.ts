/**
 * The single list of DM keys tsdm reads but does not act on. Two kinds:
 *
 * - UNSUPPORTED_KEYS change what data arrives downstream and are not implemented yet: using one is an error
 *   (ConfigUnsupportedKey) naming the key, never a silent no-op. When a feature lands, delete its entry here
 *   and the loader passes the value through.
 * - NO_EFFECT_KEYS are performance knobs or DM/TiDB internals with no effect on the data: accepted so DM
 *   files work unchanged, reported as notes by check-task/start-task.
 *
 * docs/configuration.md has the same two tables; keep them in step.
 */

import { configError, configNote, formatPath, locate, type ConfigNote, type YamlSource } from './yaml-source.ts';

export type ConfigFileKind = 'task' | 'source';

export interface KeyRule {
  file: ConfigFileKind;
  /** Key path: `*` matches any mapping key, `[]` any list item; e.g. `mysql-instances[].expression-filters`. */
  key: string;
  /** When the entry applies, in words, for docs ("true", "not none"); absent = whenever the key is set. */
  when?: string;
  /** Predicate for `when`; default: set and not empty/false. */
  test?: (value: unknown) => boolean;
  reason: string;
}

const isTrue = (v: unknown) => v === true;
const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

/** mydumper options that change which rows or tables are dumped; everything else in extra-args is tuning. */
const DATA_CHANGING_DUMP_ARGS =
  /(^|\s)(--where|--tables-list|-T|--database|-B|--regex|-x|--no-data|-d|--no-schemas|-m|--ignore-engines|-i|--omit-from-file|-O|--filter|-f|--sql|-S)(\s|=|$)/;

/** Rules for both the named form (`mydumpers.<name>.k`) and the inline form (`mysql-instances[].mydumper.k`). */
function unitKeys(
  named: string,
  inline: string,
  keys: readonly string[],
  rule: Omit<KeyRule, 'key' | 'file'>,
): KeyRule[] {
  return keys.flatMap((k) => [
    { file: 'task' as const, key: `${named}.*.${k}`, ...rule },
    { file: 'task' as const, key: `mysql-instances[].${inline}.${k}`, ...rule },
  ]);
}

const INLINE_CERTS = [
  'ssl-ca-base64',
  'ssl-cert-base64',
  'ssl-key-base64',
  'ssl-ca-bytes',
  'ssl-cert-bytes',
  'ssl-key-bytes',
];

export const UNSUPPORTED_KEYS: readonly KeyRule[] = [
  // ---- task.yaml
  {
    file: 'task',
    key: 'task-mode',
    when: 'dump, load or load&sync',
    test: (v) => ['dump', 'load', 'load&sync'].includes(v as string),
    reason: 'task-mode dump/load/load&sync is not implemented; use full (dump+load) or all (dump+load+sync)',
  },
  {
    file: 'task',
    key: 'column-mappings',
    reason:
      'column-mapping is not supported since DM v6.6.0 (DM rejects it too); use routes with extract-table/extract-schema/extract-source in DM',
  },
  {
    file: 'task',
    key: 'mysql-instances[].column-mapping-rules',
    reason: 'column-mapping is not supported since DM v6.6.0 (DM removed it)',
  },
  ...unitKeys('mydumpers', 'mydumper', ['extra-args'], {
    when: 'it selects or filters data (--where, -T, -B, --regex, --no-data, …)',
    test: (v) => typeof v === 'string' && DATA_CHANGING_DUMP_ARGS.test(v),
    reason:
      'mydumper arguments that change which data is dumped are not supported; use block-allow-list or mydumpers.where',
  }),
  ...INLINE_CERTS.map((k) => ({
    file: 'task' as const,
    key: `target-database.security.${k}`,
    reason: 'inline certificates are not supported yet; use ssl-ca/ssl-cert/ssl-key file paths',
  })),
  // ---- source.yaml
  {
    file: 'source',
    key: 'case-sensitive',
    when: 'true',
    test: isTrue,
    reason: 'source-level case-sensitive is not supported; set case-sensitive in the task file',
  },
  {
    file: 'source',
    key: 'enable',
    when: 'false',
    test: (v) => v === false,
    reason: 'creating a disabled source is not supported; omit enable (or set true)',
  },
  ...INLINE_CERTS.map((k) => ({
    file: 'source' as const,
    key: `from.security.${k}`,
    reason: 'inline certificates are not supported yet; use ssl-ca/ssl-cert/ssl-key file paths',
  })),
];

export const NO_EFFECT_KEYS: readonly KeyRule[] = [
  // ---- task.yaml
  {
    file: 'task',
    key: 'enable-heartbeat',
    reason: 'deprecated in DM (forced off there); tsdm writes no heartbeat table',
  },
  { file: 'task', key: 'heartbeat-update-interval', reason: 'deprecated in DM; tsdm writes no heartbeat table' },
  { file: 'task', key: 'heartbeat-report-interval', reason: 'deprecated in DM; tsdm writes no heartbeat table' },
  {
    file: 'task',
    key: 'clean-dump-file',
    reason: 'tsdm streams dumped chunks into the loader, no dump files are kept',
  },
  {
    file: 'task',
    key: 'ansi-quotes',
    reason: 'deprecated in DM, which detects ANSI_QUOTES from the upstream sql_mode instead',
  },
  { file: 'task', key: 'remove-meta', reason: 'deprecated in DM; use `dmctl start-task --remove-meta`' },
  {
    file: 'task',
    key: 'ignore-checking-items',
    reason:
      'consulted only by the conn_number and meta_position checks (and `all` for those two); the other checks always run',
  },
  {
    file: 'task',
    key: 'experimental',
    reason: 'DM experimental switches (async-checkpoint-flush) are performance options',
  },
  {
    file: 'task',
    key: 'online-ddl',
    when: 'false',
    test: (v) => v === false,
    reason: 'gh-ost/pt tables are replicated as ordinary tables, as DM does with online-ddl: false',
  },
  {
    file: 'task',
    key: 'target-database.max-allowed-packet',
    reason: 'deprecated in DM; the driver negotiates the packet size',
  },
  ...unitKeys('mydumpers', 'mydumper', ['chunk-filesize', 'statement-size', 'mydumper-path', 'extra-args'], {
    reason: 'tsdm dumps in row-count chunks (rows) with its own dumper; no mydumper binary, no dump files',
  }),
  ...unitKeys('loaders', 'loader', ['dir'], { reason: 'tsdm streams chunks from dump to load, no dump directory' }),
  ...unitKeys('loaders', 'loader', ['import-mode'], {
    when: 'sql, loader or logical',
    test: (v) => v !== undefined && !['physical', 'import-into'].includes(lower(v) as string),
    reason: 'tsdm always loads with SQL statements (DM logical mode)',
  }),
  // DM hands physical/import-into to TiDB Lightning (TiDB downstreams only). A task file written for it still loads:
  // the same rows, with SQL, and this note says so at check-task/start-task (the checks of logical mode apply).
  ...unitKeys('loaders', 'loader', ['import-mode'], {
    when: 'physical or import-into',
    test: (v) => lower(v) === 'physical' || lower(v) === 'import-into',
    reason:
      'TiDB Lightning physical/import-into backends are not in tsdm: it loads with SQL statements as in import-mode logical (same rows; on-duplicate-logical applies, default replace)',
  }),
  ...unitKeys(
    'loaders',
    'loader',
    [
      'sorting-dir-physical',
      'on-duplicate-physical',
      'disk-quota-physical',
      'checksum-physical',
      'analyze',
      'range-concurrency',
      'compress-kv-pairs',
      'pd-addr',
    ],
    { reason: 'only used by TiDB Lightning physical import, which tsdm does not have' },
  ),
  ...unitKeys(
    'syncers',
    'syncer',
    ['queue-size', 'max-retry', 'auto-fix-gtid', 'enable-gtid', 'disable-detect', 'enable-ansi-quotes', 'meta-file'],
    { reason: 'DM-internal or deprecated syncer option (GTID use comes from the source: enable-gtid)' },
  ),
  ...unitKeys('syncers', 'syncer', ['checkpoint-flush-interval'], {
    reason:
      'tsdm writes checkpoints in the same transaction as the data; only used for the default safe-mode-duration (2 x this)',
  }),
  {
    file: 'task',
    key: 'validators.*.meta-flush-interval',
    reason:
      'tsdm writes error rows to the meta schema when they are found; rows still pending are not saved (after a restart, validation starts with the rows sync applies next)',
  },
  {
    file: 'task',
    key: 'validators.*.max-pending-row-size',
    reason: 'tsdm bounds pending rows by count only: max-pending-row-count (default 100000)',
  },
  // ---- source.yaml
  { file: 'source', key: 'relay-dir', reason: 'the relay log lives in LMDB under the agent data dir' },
  { file: 'source', key: 'meta-dir', reason: 'deprecated in DM' },
  { file: 'source', key: 'charset', reason: 'deprecated in DM' },
  { file: 'source', key: 'auto-fix-gtid', reason: 'deprecated in DM (forced off)' },
  {
    file: 'source',
    key: 'checker',
    reason: "DM's task status checker (auto-resume backoff); tsdm agents retry transient errors themselves",
  },
  { file: 'source', key: 'tracer', reason: 'deprecated in DM' },
  { file: 'source', key: 'enable', when: 'true', test: isTrue, reason: 'sources are enabled when created' },
  {
    file: 'source',
    key: 'case-sensitive',
    when: 'false',
    test: (v) => v === false,
    reason: 'default; case sensitivity is set per task',
  },
  { file: 'source', key: 'from.max-allowed-packet', reason: 'deprecated in DM; the driver negotiates the packet size' },
];

/** Set in the DM sense: present and not an empty value (Go's zero value means "not set"). */
export function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export interface KeyMatch {
  rule: KeyRule;
  path: (string | number)[];
  value: unknown;
}

/**
 * Occurrences of the rules' keys in a file's plain value (before schema validation, so an unsupported key
 * is reported as such even when the rest of its block has other problems).
 */
export function findKeys(
  raw: unknown,
  rules: readonly KeyRule[],
  file: ConfigFileKind,
  defaultTest: (v: unknown) => boolean,
): KeyMatch[] {
  const out: KeyMatch[] = [];
  for (const rule of rules) {
    if (rule.file !== file) continue;
    const segs = rule.key.split('.').flatMap((s) => (s.endsWith('[]') ? [s.slice(0, -2), '[]'] : [s]));
    const test = rule.test ?? defaultTest;
    const walk = (v: unknown, i: number, path: (string | number)[]) => {
      if (i === segs.length) {
        if (test(v)) out.push({ rule, path, value: v });
        return;
      }
      const seg = segs[i]!;
      if (seg === '[]') {
        if (Array.isArray(v)) v.forEach((item, j) => walk(item, i + 1, [...path, j]));
        return;
      }
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return;
      const obj = v as Record<string, unknown>;
      for (const k of seg === '*' ? Object.keys(obj) : [seg])
        if (Object.hasOwn(obj, k)) walk(obj[k], i + 1, [...path, k]);
    };
    walk(raw, 0, []);
  }
  return out;
}

/**
 * Throws ConfigUnsupportedKey for the first unsupported key in the file (in file order) and returns a note
 * for every accepted-without-effect key.
 */
export function applyKeyPolicy(src: YamlSource, raw: unknown, file: ConfigFileKind): ConfigNote[] {
  const bad = findKeys(raw, UNSUPPORTED_KEYS, file, isSet)
    .map((m) => ({ m, loc: locate(src, m.path) }))
    .sort((a, b) => a.loc.line - b.loc.line || a.loc.column - b.loc.column);
  const first = bad[0];
  if (first) {
    const shown = typeof first.m.value === 'object' ? '' : ` = ${JSON.stringify(first.m.value)}`;
    const more =
      bad.length > 1
        ? ` (also unsupported: ${bad
            .slice(1)
            .map((b) => formatPath(b.m.path))
            .join(', ')})`
        : '';
    throw configError(
      src,
      'ConfigUnsupportedKey',
      first.m.path,
      `${formatPath(first.m.path)}${shown} is not supported by tsdm yet: ${first.m.rule.reason}${more}`,
    );
  }
  return findKeys(raw, NO_EFFECT_KEYS, file, (v) => v !== undefined).map((m) =>
    configNote(src, 'no-effect', m.path, `accepted, no effect: ${m.rule.reason}`),
  );
}
