/**
 * The normalised, validated configuration the engine works with. The YAML files use DM's kebab-case keys
 * (see docs/configuration.md); the loaders in this folder turn them into these camelCase types, resolving
 * rule names, deprecated aliases and per-instance overrides, so that no other module sees raw YAML.
 */

export interface TlsConfig {
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  certAllowedCn?: string[];
  /**
   * `ssl-verify-server-cert` (tsdm's key, named after the mysql client's option): false skips the check that the
   * server's certificate names the configured host. Default true. The CA chain and cert-allowed-cn are still checked.
   */
  verifyServerCert?: boolean;
}

export interface DbConfig {
  host: string;
  port: number;
  user: string;
  /** Plain text in memory only; never logged, never printed (see redact()). */
  password: string;
  /**
   * Session variables the user set on every connection (DM `session`): names as src/sql/session-vars.ts
   * sessionVarName gives them (lower case, no `@@`), values as written. tsdm's own settings are added when connecting.
   */
  session: Record<string, string | number | boolean>;
  /** Where `session` was written (set when it is not empty): errors about a variable name the file and key. */
  sessionOrigin?: { file: string; key: string };
  security?: TlsConfig;
}

export type Flavor = 'mysql' | 'mariadb';

export interface PurgeConfig {
  interval: number;
  expires: number;
  remainSpace: number;
}

export interface SourceConfig {
  sourceId: string;
  /** '' in the file means "detect at connect time"; the loader keeps undefined for that. */
  flavor?: Flavor;
  enableGtid: boolean;
  enableRelay: boolean;
  relayBinlogName: string;
  relayBinlogGtid: string;
  /** server-id tsdm uses when it connects as a replica; 0 = derive one from the source-id. */
  serverId: number;
  from: DbConfig;
  purge: PurgeConfig;
  /**
   * DM's source-level binlog event filters (`filters` in source.yaml): added to every task's rules on this source;
   * a task rule with the same schema and table patterns wins (DM: "filter config already exist in source config").
   */
  filters?: EventFilterRule[];
}

/** DM block-allow-list rule (MySQL replicate-do/ignore semantics). Patterns: wildcard or `~regex`. */
export interface BlockAllowRule {
  doDbs: string[];
  ignoreDbs: string[];
  doTables: { dbName: string; tblName: string }[];
  ignoreTables: { dbName: string; tblName: string }[];
}

/** DM table routing rule. */
export interface RouteRule {
  name: string;
  schemaPattern: string;
  /** '' = schema-level rule (renames the schema of every table that matches schemaPattern). */
  tablePattern: string;
  targetSchema: string;
  /** '' = keep the table name. */
  targetTable: string;
  /** DM extended columns: the captures of the regexp on the table name / schema name / source-id, written
   * to target-column of every migrated row (see route/extend-columns.ts). */
  extractTable?: ColumnExtractor;
  extractSchema?: ColumnExtractor;
  extractSource?: ColumnExtractor;
}

/** DM `extract-table`/`extract-schema`/`extract-source`: a Go (RE2) regexp and the downstream column it fills. */
export interface ColumnExtractor {
  regexp: string;
  targetColumn: string;
}

export type FilterAction = 'Do' | 'Ignore' | 'Error';

/** DM binlog event filter rule. `events` are DM's lower-case event type names ("insert", "all dml", "truncate table" …). */
export interface EventFilterRule {
  name: string;
  schemaPattern: string;
  tablePattern: string;
  events: string[];
  sqlPattern: string[];
  action: FilterAction;
}

/**
 * DM expression filter rule (`expression-filter.<name>`): one upstream table (exact names) and the SQL expression
 * that discards a row change when true. A rule sets insert, delete, or update (old and/or new) expressions, never
 * two of those kinds (DM rejects that too).
 */
export interface ExpressionFilterRule {
  name: string;
  schema: string;
  table: string;
  insertValueExpr?: string;
  updateOldValueExpr?: string;
  updateNewValueExpr?: string;
  deleteValueExpr?: string;
}

export interface DumpConfig {
  /** Parallel dump connections (mydumpers.threads, overridden by mysql-instances[].mydumper-thread). */
  threads: number;
  /** Rows per chunk (mydumpers.rows; 0 in DM means "no chunking", tsdm then uses its default 10000). */
  rows: number;
  /** DM's mydumpers.chunk-filesize, MB; kept for compatibility, tsdm chunks by rows. */
  chunkFilesize: number;
  skipTzUtc: boolean;
  /** Extra WHERE applied to every dumped table (DM mydumpers.where). */
  where: string;
}

export interface LoadConfig {
  /** Parallel load connections (loaders.pool-size, overridden by loader-thread). */
  poolSize: number;
  /** What to do when a loaded row exists already: replace (default in tsdm: makes chunk replay idempotent) or error. */
  onDuplicate: 'replace' | 'error' | 'ignore';
}

export interface SyncConfig {
  /** Writer connections (syncers.worker-count, overridden by syncer-thread). */
  writerCount: number;
  /** Max row changes per downstream transaction. */
  batch: number;
  safeMode: boolean;
  /** Seconds of safe mode after a (re)start; DM's safe-mode-duration (default 60s = 2 * 30s). */
  safeModeDuration: number;
  compact: boolean;
  multipleRows: boolean;
  /**
   * syncers.large-txn-rows (tsdm's own): an upstream transaction is read and applied in parts of this many row changes
   * once it has more (agent/sync/big-txn.ts), all in one downstream transaction: memory holds a part, not the whole.
   */
  largeTxnRows: number;
}

/**
 * Continuous validation (DM `validators`, issue #15): rows sync applied are read back downstream and compared
 * (agent/verify/validator.ts). Durations in milliseconds.
 */
export interface ValidatorConfig {
  mode: 'none' | 'fast' | 'full';
  /** Validation workers (each one downstream connection). DM default 4. */
  workerCount: number;
  /** A changed row waits at most this long to be read back in a batch (DM validate-interval, default 10s). */
  validateIntervalMs: number;
  /** A row that differed is read again after this long (DM check-interval, default 5s). */
  checkIntervalMs: number;
  /** A row still differing this long after sync applied it becomes an error row (DM row-error-delay, default 30m). */
  rowErrorDelayMs: number;
  /** Keys per downstream read (DM batch-query-size, default 100). */
  batchQuerySize: number;
  /** Rows waiting for validation beyond this stop the validator with a clear status (DM max-pending-row-count). */
  maxPendingRowCount: number;
}

export interface BinlogMeta {
  binlogName: string;
  binlogPos: number;
  binlogGtid: string;
}

/** One (task, source) pair: what a dm-agent runs. Rules are already resolved from their names. */
export interface SubtaskSpec {
  sourceId: string;
  meta?: BinlogMeta;
  blockAllowList?: BlockAllowRule;
  routes: RouteRule[];
  filters: EventFilterRule[];
  /** Expression filters (DM `expression-filters`), applied by the sync unit only, as in DM. */
  exprFilters: ExpressionFilterRule[];
  dump: DumpConfig;
  load: LoadConfig;
  sync: SyncConfig;
  /** validator-config-name's validator (mode none when the instance names none). */
  validator: ValidatorConfig;
}

export type TaskMode = 'all' | 'full' | 'incremental';

export interface TaskConfig {
  name: string;
  taskMode: TaskMode;
  /** '' = not a shard-merge task. Shard merge itself comes with its own issue. */
  shardMode: '' | 'pessimistic' | 'optimistic';
  /** DM strict-optimistic-shard-mode: a NOT NULL column without a default added on some shards is a conflict. */
  strictOptimistic: boolean;
  metaSchema: string;
  /** Time zone for the downstream session, e.g. "+04:00" or "UTC"; '' = the agent's. */
  timezone: string;
  caseSensitive: boolean;
  /** DM collation_compatible: 'strict' adds the upstream's collations to DDL that relies on server defaults
   * (src/sql/strict-collation.ts); 'loose' replicates DDL as written. */
  collationCompatible: 'loose' | 'strict';
  targetDatabase: DbConfig;
  subtasks: SubtaskSpec[];
  /** DM ignore-checking-items, as written; absent when empty. Consulted by the prechecks that have a DM item name
   * (conn_number, meta_position; `all` skips both): src/config/checking-items.ts. */
  ignoreCheckingItems?: string[];
  /** DM online-ddl: gh-ost / pt-osc shadow and trash tables (Go regexps on table names; capture 1 = real table). */
  onlineDdl?: OnlineDdlConfig;
}

export interface OnlineDdlConfig {
  shadowTableRules: string[];
  trashTableRules: string[];
}
