/**
 * The zod schema of DM's task.yaml as written (kebab-case keys, rules by name). It checks shapes and single
 * values; task-config.ts then resolves names, aliases, defaults and per-instance overrides (task-instance.ts, one
 * mysql-instance at a time). Every DM key is here, including those tsdm rejects or ignores (unsupported.ts), so a
 * misspelt key is always "unknown key" with a suggestion, and a DM key is never mistaken for a typo.
 */
import { z } from 'zod';
import { parseGoDuration, sqlPatternProblem, timezoneProblem } from './dm-values.ts';
import { connCount, dbSchema, issue, pattern, uint, uint32 } from './schema-parts.ts';

/** DM's checking items (dm/config/checking_item.go), for ignore-checking-items. */
export const DM_CHECKING_ITEMS: readonly string[] = [
  'all',
  'dump_privilege',
  'replication_privilege',
  'version',
  'server_id',
  'binlog_enable',
  'binlog_format',
  'binlog_row_image',
  'table_schema',
  'schema_of_shard_tables',
  'auto_increment_ID',
  'online_ddl',
  'binlog_db',
  'meta_position',
  'conn_number',
  'target_privilege',
  'empty_region',
  'region_distribution',
  'downstream_version',
  'free_space',
  'downstream_mutex_features',
  'downstream_table_empty',
  'primary_key',
];

const names = () => z.array(z.string().min(1)).default([]);

/**
 * A string DM compares case-insensitively against a fixed set. With `emptyIsDefault`, "" is accepted and means the
 * key's default, as DM's adjust() does for the loader's import-mode, on-duplicate-*, checksum-physical, analyze and the
 * validator's mode (DM's task templates write these keys as ""); task-units.ts then reads "" as unset.
 */
const ciEnum = (values: readonly string[], what: string, opts: { emptyIsDefault?: boolean } = {}) =>
  z.string().superRefine((v, ctx) => {
    if (opts.emptyIsDefault && v === '') return;
    if (!values.includes(v.toLowerCase()))
      issue(ctx, `${what} must be one of ${values.join(', ')}; got ${JSON.stringify(v)}`);
  });

/** A Go duration; with `emptyIsDefault`, "" means the key's default (DM: syncer safe-mode-duration). */
const goDuration = (opts: { emptyIsDefault?: boolean } = {}) =>
  z.union([z.string(), z.number()]).superRefine((v, ctx) => {
    if (opts.emptyIsDefault && v === '') return;
    const secs = typeof v === 'number' ? v : parseGoDuration(v);
    if (secs === undefined || secs < 0)
      issue(ctx, `${JSON.stringify(v)} is not a duration (Go syntax such as "60s", "1m30s", or a number of seconds)`);
  });

/** Its values are checked where meta is used (task-instance.ts resolveMeta): DM ignores meta outside incremental mode. */
const meta = z
  .object({
    'binlog-name': z.string().optional(),
    'binlog-pos': uint32().optional(),
    'binlog-gtid': z.string().optional(),
  })
  .strict();

export const mydumperSchema = z
  .object({
    threads: connCount().optional(),
    // No effect (tsdm dumps in row chunks), but DM refuses a value that is not a size (utils.ParseFileSize).
    'chunk-filesize': z
      .string()
      .superRefine((v, ctx) => {
        if (v !== '' && !/^\d+(\.\d+)* ?[kmgtp]?i?b?$/i.test(v))
          issue(ctx, `invalid \`chunk-filesize\` ${v}: a size in MiB (64) or with a unit (64MiB, 1GB)`);
      })
      .optional(),
    'statement-size': uint().optional(),
    rows: uint().optional(),
    where: z.string().optional(),
    'skip-tz-utc': z.boolean().optional(),
    'extra-args': z.string().optional(),
    'mydumper-path': z.string().optional(),
  })
  .strict();

export const loaderSchema = z
  .object({
    'pool-size': connCount().optional(),
    dir: z.string().optional(),
    'import-mode': ciEnum(['sql', 'loader', 'logical', 'physical', 'import-into'], 'import-mode', {
      emptyIsDefault: true,
    }).optional(),
    /** Deprecated DM alias of on-duplicate-logical. */
    'on-duplicate': ciEnum(['replace', 'error', 'ignore'], 'on-duplicate', { emptyIsDefault: true }).optional(),
    'on-duplicate-logical': ciEnum(['replace', 'error', 'ignore'], 'on-duplicate-logical', {
      emptyIsDefault: true,
    }).optional(),
    'on-duplicate-physical': ciEnum(['none', 'manual'], 'on-duplicate-physical', { emptyIsDefault: true }).optional(),
    'sorting-dir-physical': z.string().optional(),
    'disk-quota-physical': z.union([z.string(), z.number()]).optional(),
    'checksum-physical': ciEnum(['required', 'optional', 'off'], 'checksum-physical', {
      emptyIsDefault: true,
    }).optional(),
    analyze: ciEnum(['required', 'optional', 'off'], 'analyze', { emptyIsDefault: true }).optional(),
    'range-concurrency': uint().optional(),
    'compress-kv-pairs': z.string().optional(),
    'pd-addr': z.string().optional(),
  })
  .strict();

export const syncerSchema = z
  .object({
    'worker-count': connCount().optional(),
    batch: uint().optional(),
    'queue-size': uint().optional(),
    'checkpoint-flush-interval': uint().optional(),
    compact: z.boolean().optional(),
    'multiple-rows': z.boolean().optional(),
    'safe-mode': z.boolean().optional(),
    'safe-mode-duration': goDuration({ emptyIsDefault: true }).optional(),
    'max-retry': uint().optional(),
    'auto-fix-gtid': z.boolean().optional(),
    'enable-gtid': z.boolean().optional(),
    'disable-detect': z.boolean().optional(),
    'enable-ansi-quotes': z.boolean().optional(),
    'meta-file': z.string().optional(),
    // tsdm's own (DM has no equivalent): rows per part of a large transaction applied as it is read.
    'large-txn-rows': uint().optional(),
  })
  .strict();

const validatorSchema = z
  .object({
    mode: ciEnum(['none', 'fast', 'full'], 'mode', { emptyIsDefault: true }).optional(),
    'worker-count': connCount().optional(),
    'validate-interval': goDuration().optional(),
    'check-interval': goDuration().optional(),
    'row-error-delay': goDuration().optional(),
    'meta-flush-interval': goDuration().optional(),
    'batch-query-size': uint().optional(),
    'max-pending-row-size': z.string().optional(),
    'max-pending-row-count': uint().optional(),
  })
  .strict();

const tableRef = z.object({ 'db-name': pattern(), 'tbl-name': pattern() }).strict();

export const baRuleSchema = z
  .object({
    'do-dbs': z.array(pattern()).default([]),
    'ignore-dbs': z.array(pattern()).default([]),
    'do-tables': z.array(tableRef).default([]),
    'ignore-tables': z.array(tableRef).default([]),
  })
  .strict();

const extractor = (regexKey: string) =>
  z.object({ [regexKey]: z.string().optional(), 'target-column': z.string().optional() }).strict();

export const routeSchema = z
  .object({
    'schema-pattern': pattern(),
    'table-pattern': pattern(true).default(''),
    'target-schema': z.string().min(1),
    'target-table': z.string().default(''),
    'extract-table': extractor('table-regexp').optional(),
    'extract-schema': extractor('schema-regexp').optional(),
    'extract-source': extractor('source-regexp').optional(),
  })
  .strict();

export const filterSchema = z
  .object({
    'schema-pattern': pattern(),
    'table-pattern': pattern(true).default(''),
    events: z.array(z.string()).default([]),
    'sql-pattern': z
      .array(
        z.string().superRefine((p, ctx) => {
          // DM compiles "(?i)" + the patterns joined by "|" with Go's regexp.
          const problem = sqlPatternProblem(p);
          if (problem) issue(ctx, problem, { dmCode: 'ConfigBadPattern' });
        }),
      )
      .default([]),
    action: ciEnum(['do', 'ignore', 'error'], 'action'),
  })
  .strict();

const expressionFilterSchema = z
  .object({
    schema: z.string().optional(),
    table: z.string().optional(),
    'insert-value-expr': z.string().optional(),
    'update-old-value-expr': z.string().optional(),
    'update-new-value-expr': z.string().optional(),
    'delete-value-expr': z.string().optional(),
  })
  .strict();

export const instanceSchema = z
  .object({
    'source-id': z.string().min(1),
    meta: meta.optional(),
    'filter-rules': names(),
    'column-mapping-rules': names(),
    'route-rules': names(),
    'expression-filters': names(),
    /** Deprecated DM alias of block-allow-list. */
    'black-white-list': z.string().default(''),
    'block-allow-list': z.string().default(''),
    'mydumper-config-name': z.string().default(''),
    mydumper: mydumperSchema.optional(),
    'mydumper-thread': connCount().default(0),
    'loader-config-name': z.string().default(''),
    loader: loaderSchema.optional(),
    'loader-thread': connCount().default(0),
    'syncer-config-name': z.string().default(''),
    syncer: syncerSchema.optional(),
    'syncer-thread': connCount().default(0),
    'validator-config-name': z.string().default(''),
  })
  .strict();

const rules = <T extends z.ZodType>(s: T) => z.record(z.string(), s).default({});

export const taskSchema = z
  .object({
    name: z.string().min(1),
    'task-mode': z.enum(['all', 'full', 'incremental', 'dump', 'load', 'load&sync']),
    'is-sharding': z.boolean().default(false),
    'shard-mode': z.enum(['', 'pessimistic', 'optimistic']).default(''),
    'strict-optimistic-shard-mode': z.boolean().optional(),
    'ignore-checking-items': z
      .array(
        z.string().superRefine((v, ctx) => {
          if (!DM_CHECKING_ITEMS.includes(v))
            issue(ctx, `unknown checking item ${JSON.stringify(v)}; DM's items are ${DM_CHECKING_ITEMS.join(', ')}`);
        }),
      )
      .default([]),
    'meta-schema': z.string().default('dm_meta'),
    'enable-heartbeat': z.boolean().optional(),
    'heartbeat-update-interval': z.number().int().optional(),
    'heartbeat-report-interval': z.number().int().optional(),
    timezone: z
      .string()
      .default('')
      .superRefine((tz, ctx) => {
        const problem = tz === '' ? undefined : timezoneProblem(tz);
        if (problem) issue(ctx, problem);
      }),
    'case-sensitive': z.boolean().default(false),
    collation_compatible: z.enum(['', 'loose', 'strict']).default('loose'),
    'target-database': dbSchema(3306),
    'mysql-instances': z.array(instanceSchema).min(1),
    'online-ddl': z.boolean().default(false),
    'shadow-table-rules': z.array(z.string()).optional(),
    'trash-table-rules': z.array(z.string()).optional(),
    'online-ddl-scheme': z.string().optional(),
    routes: rules(routeSchema),
    filters: rules(filterSchema),
    'column-mappings': z.record(z.string(), z.unknown()).optional(),
    'expression-filter': rules(expressionFilterSchema),
    'black-white-list': rules(baRuleSchema),
    'block-allow-list': rules(baRuleSchema),
    mydumpers: rules(mydumperSchema),
    loaders: rules(loaderSchema),
    syncers: rules(syncerSchema),
    validators: rules(validatorSchema),
    'clean-dump-file': z.boolean().optional(),
    'ansi-quotes': z.boolean().optional(),
    'remove-meta': z.boolean().optional(),
    experimental: z.object({ 'async-checkpoint-flush': z.boolean().optional() }).strict().optional(),
  })
  .strict();

export type RawTask = z.output<typeof taskSchema>;
export type RawInstance = z.output<typeof instanceSchema>;
export type RawMydumper = z.output<typeof mydumperSchema>;
export type RawLoader = z.output<typeof loaderSchema>;
export type RawSyncer = z.output<typeof syncerSchema>;
export type RawValidator = z.output<typeof validatorSchema>;
export type RawFilter = z.output<typeof filterSchema>;
export type RawRoute = z.output<typeof routeSchema>;
export type RawBaRule = z.output<typeof baRuleSchema>;
