import type { ErrorClass } from './classes.ts';

/**
 * The error catalog: every error a user can see has a stable code listed here.
 * Ranges: 1xxxx config, 2xxxx upstream, 3xxxx downstream, 4xxxx relay, 5xxxx coordination, 6xxxx internal.
 * `docs/errors.md` is generated from this table (`npm run docs:errors`); never renumber a code.
 */
export interface ErrorSpec {
  readonly code: string;
  readonly class: ErrorClass;
  readonly retryable: boolean;
  readonly title: string;
  readonly suggestion: string;
}

function spec(code: string, cls: ErrorClass, retryable: boolean, title: string, suggestion: string): ErrorSpec {
  return { code, class: cls, retryable, title, suggestion };
}

export const Errors = {
  // ---- config (1xxxx)
  ConfigFileRead: spec('TSDM-10001', 'config', false, 'config file cannot be read', 'Check the path and its permissions.'),
  ConfigYamlSyntax: spec('TSDM-10002', 'config', false, 'config file is not valid YAML', 'Fix the YAML syntax at the line shown.'),
  ConfigInvalid: spec('TSDM-10003', 'config', false, 'config value is invalid', 'Fix the key shown; `docs/configuration.md` lists every key with its type.'),
  ConfigUnknownKey: spec('TSDM-10004', 'config', false, 'unknown config key', 'Remove the key or fix its spelling; `docs/configuration.md` lists the supported keys.'),
  ConfigUnsupportedKey: spec('TSDM-10005', 'config', false, 'DM config key not supported by tsdm yet', 'Remove the key (or set it to its default); tsdm never ignores a key silently.'),
  ConfigUnknownRule: spec('TSDM-10006', 'config', false, 'a mysql-instance names a rule that is not defined', 'Define the rule in the task file (routes/filters/block-allow-list/mydumpers/loaders/syncers) or fix the name.'),
  ConfigDeprecatedConflict: spec('TSDM-10007', 'config', false, 'both a deprecated key and its replacement are set', 'Keep only the new key (e.g. block-allow-list instead of black-white-list).'),
  ConfigBadPattern: spec('TSDM-10008', 'config', false, 'a pattern or regular expression is invalid', 'Fix the pattern; `~` starts a regular expression, otherwise * and ? are wildcards.'),
  SourceNotFound: spec('TSDM-10009', 'config', false, 'source does not exist', 'Create it first with `dmctl operate-source create source.yaml`, or fix the source-id.'),
  TaskNotFound: spec('TSDM-10010', 'config', false, 'task does not exist', 'Check the name with `dmctl query-status`.'),
  TaskExists: spec('TSDM-10011', 'config', false, 'task already exists', 'Stop it first with `dmctl stop-task NAME`, or choose another name.'),
  SourceExists: spec('TSDM-10012', 'config', false, 'source already exists', 'Stop it first with `dmctl operate-source stop SOURCE-ID`, or use another source-id.'),
  SourceInUse: spec('TSDM-10013', 'config', false, 'source is used by a task', 'Stop the tasks that use it first (`dmctl stop-task NAME`).'),
  BadArguments: spec('TSDM-10014', 'config', false, 'command-line arguments are invalid', 'Run the command with --help.'),
  SecretKey: spec('TSDM-10021', 'config', false, 'encrypted password cannot be used: secret key missing or wrong', 'Give every agent and dmctl the same key file with --secret-key-path (or TSDM_SECRET_KEY_PATH), or write the password in plain text.'),
  MetaRequired: spec('TSDM-10015', 'config', false, 'meta has no start position (binlog-name or binlog-gtid)', 'Set meta.binlog-name/binlog-pos (or binlog-gtid) in mysql-instances, remove meta to start from the source\'s current position (warning TSDM-10023), or use task-mode all.'),
  IncrementalFromCurrent: spec('TSDM-10023', 'config', false, 'incremental task without meta starts from the source\'s current binlog position (a warning)', 'Changes made upstream before that position are not migrated: make sure the downstream already holds them. To start elsewhere, set meta.binlog-name/binlog-pos (or binlog-gtid) and start the task again with `dmctl start-task --remove-meta`, or use task-mode all.'),
  SessionVariableRefused: spec('TSDM-10022', 'config', false, 'the server refused a session variable from the config', 'Fix or remove the variable under from.session (source.yaml) or target-database.session (task.yaml) named in the message; the message says what the server objected to.'),
  ConfigBadExpression: spec('TSDM-10016', 'config', false, 'an expression filter cannot be parsed or uses what tsdm cannot evaluate', 'Rewrite the expression with the operators and functions docs/configuration.md lists for expression-filter, or remove the rule.'),
  // ---- upstream (2xxxx)
  UpstreamConnect: spec('TSDM-20001', 'upstream', true, 'cannot connect to the upstream database', 'Check from.host/port, that the server runs, and the network path from the agent host.'),
  UpstreamAuth: spec('TSDM-20002', 'upstream', false, 'upstream rejected the user or password', 'Check from.user/from.password in the source file (or re-encrypt it with `dmctl encrypt`).'),
  UpstreamBinlogFormat: spec('TSDM-20003', 'upstream', false, 'upstream binlog_format is not ROW', 'Run `SET GLOBAL binlog_format=ROW` and set it in my.cnf; sessions opened before keep the old format.'),
  UpstreamBinlogRowImage: spec('TSDM-20004', 'upstream', false, 'upstream binlog_row_image is not FULL', 'Run `SET GLOBAL binlog_row_image=FULL` and set it in my.cnf.'),
  UpstreamBinlogDisabled: spec('TSDM-20005', 'upstream', false, 'upstream has no binary log (log_bin=OFF)', 'Start the upstream with --log-bin and --server-id.'),
  UpstreamServerId: spec('TSDM-20006', 'upstream', false, 'upstream server_id is 0', 'Set server_id to a non-zero value unique in the replication topology.'),
  UpstreamPrivileges: spec('TSDM-20007', 'upstream', false, 'upstream user lacks privileges', 'GRANT SELECT, RELOAD, LOCK TABLES, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO the user.'),
  UpstreamQuery: spec('TSDM-20008', 'upstream', true, 'query on the upstream failed', 'See the SQL and cause; the unit retries transient errors.'),
  BinlogPurged: spec('TSDM-20009', 'upstream', false, 'binlog needed by the task was purged upstream (1236)', 'Restart the task with a full migration (task-mode all with --remove-meta), or raise expire_logs_days upstream.'),
  BinlogServerIdConflict: spec('TSDM-20010', 'upstream', false, 'another replica uses the same server-id (4052)', 'Set a distinct server-id in the source file.'),
  BinlogStream: spec('TSDM-20011', 'upstream', true, 'binlog stream broke', 'The sync unit reconnects with backoff from its checkpoint.'),
  SnapshotFailed: spec('TSDM-20012', 'upstream', true, 'consistent snapshot could not be taken', 'Check that the user has RELOAD and LOCK TABLES and that no long DDL holds locks.'),
  BinlogPositionInvalid: spec('TSDM-20013', 'upstream', false, 'binlog position or GTID not found upstream', 'Check meta.binlog-name/binlog-pos/binlog-gtid against SHOW BINARY LOGS.'),
  // ---- downstream (3xxxx)
  DownstreamConnect: spec('TSDM-30001', 'downstream', true, 'cannot connect to the downstream database', 'Check target-database host/port and that the server runs; the unit retries.'),
  DownstreamAuth: spec('TSDM-30002', 'downstream', false, 'downstream rejected the user or password', 'Check target-database.user/password in the task file.'),
  DownstreamExec: spec('TSDM-30003', 'downstream', false, 'statement failed on the downstream', 'Fix the downstream (or the routing) so the statement can apply, then `dmctl resume-task`.'),
  DownstreamTransient: spec('TSDM-30004', 'downstream', true, 'transient downstream error (deadlock, lock wait, connection lost)', 'Nothing to do: the unit retries with backoff.'),
  DownstreamSchema: spec('TSDM-30005', 'downstream', false, 'table structure cannot be created downstream', 'Create the table downstream by hand with a compatible definition, then `dmctl resume-task`.'),
  CheckpointCorrupt: spec('TSDM-30006', 'downstream', false, 'checkpoint in meta-schema is unreadable', 'Restart the task with `dmctl start-task --remove-meta` (full migration again).'),
  DownstreamExtendColumns: spec('TSDM-30007', 'downstream', false, 'a route extracts columns (extract-table/schema/source) the downstream table does not have', 'Create the downstream table by hand with every target-column of the route (e.g. VARCHAR(64), part of the primary key when shards can share key values) before start-task; DM requires the same.'),
  LoadResumeMerged: spec('TSDM-30008', 'downstream', false, 'a load resumed after upstream DDL cannot reload a table merged with others downstream', 'Restart the task\'s migration from the beginning (stop-task, drop its target tables, start-task --remove-meta); avoid DDL on shard tables while they load.'),
  // ---- relay (4xxxx)
  RelayStore: spec('TSDM-40001', 'relay', false, 'relay store failed', 'Check the agent data dir (disk space, permissions).'),
  RelayPositionNotFound: spec('TSDM-40002', 'relay', false, 'the task needs binlog the relay does not hold', 'Start the relay from an older position (relay-binlog-name / relay-binlog-gtid in source.yaml, then remove the relay data and restart it), or restart the task with `start-task --remove-meta`.'),
  RelayPurged: spec('TSDM-40003', 'relay', false, 'relay data the task needed was purged', 'Restart the task with `start-task --remove-meta` (full migration again); keep tasks from lagging past the purge settings.'),
  RelayNotReady: spec('TSDM-40004', 'relay', true, 'the relay of this source has not started yet', 'Nothing to do if it is starting: the task retries. Otherwise check `dmctl query-status` for the relay error (upstream connection, binlog).'),
  RelayPurgeRefused: spec('TSDM-40005', 'relay', false, 'purge-relay would remove relay data a task still needs', 'Purge up to an older file, or let the slowest task catch up (or stop it) first; `dmctl query-status` shows each task\'s position.'),
  RelayNotEnabled: spec('TSDM-40006', 'relay', false, 'the source has no relay on its agent', 'Set enable-relay: true in source.yaml or run `dmctl start-relay -s SOURCE`.'),
  // ---- coordination (5xxxx)
  NatsConnect: spec('TSDM-50001', 'coordination', true, 'cannot connect to NATS', 'Check --nats (or TSDM_NATS) and that nats-server runs with -js.'),
  NatsKv: spec('TSDM-50002', 'coordination', true, 'JetStream KV operation failed', 'Check that JetStream is enabled on the NATS server and has storage.'),
  NoAgent: spec('TSDM-50003', 'coordination', true, 'no live agent to bind the source to', 'Start a dm-agent (`dm-agent --nats URL --name NAME`).'),
  Timeout: spec('TSDM-50004', 'coordination', true, 'timed out waiting for the cluster', 'Check that the agents run (`dmctl list-member`) and retry.'),
  ShardDdlMismatch: spec('TSDM-50005', 'coordination', false, 'shards of one target table reached different DDL (pessimistic shard mode)', 'Run the same DDL on every shard, or resolve the lock with `dmctl shard-ddl-lock unlock LOCK-ID --action skip|exec` (see `dmctl shard-ddl-lock TASK`).'),
  ShardDdlUnsupported: spec('TSDM-50006', 'coordination', false, 'DDL cannot be coordinated across shards', 'Skip it with `dmctl binlog skip TASK` (and apply an equivalent change downstream by hand), or replace it with `dmctl binlog replace`.'),
  ShardDdlConflict: spec('TSDM-50008', 'coordination', false, 'shards of one target table have structures that cannot be merged (optimistic shard mode)', 'Make the shards agree upstream, or decide with `dmctl shard-ddl-lock unlock LOCK-ID --action exec` (the target takes this shard\'s column definition) or `--action skip` (it keeps its own), then `dmctl resume-task TASK`.'),
  ShardSchemaInconsistent: spec('TSDM-50009', 'coordination', false, 'shard tables that merge into one target have incompatible structures', 'Align the shards\' table definitions upstream (or route them to different targets), then start the task again.'),
  ShardLockNotFound: spec('TSDM-50007', 'coordination', false, 'no such shard-DDL lock', 'List the locks with `dmctl shard-ddl-lock` and use a LOCK-ID it shows.'),
  Fenced: spec('TSDM-50021', 'coordination', true, 'this agent no longer owns the source (its binding moved to a newer term)', 'Nothing to do: the agent that holds the newer binding continues from the checkpoint; this one stops writing.'),
  NoLeader: spec('TSDM-50022', 'coordination', true, 'no leader is elected', 'Check that the agents run (`dmctl list-member`) and that one is not evicted from leadership; retry in a few seconds.'),
  AgentNotFound: spec('TSDM-50023', 'coordination', false, 'agent is not a live member of the cluster', 'Check the name with `dmctl list-member --worker`.'),
  WaitTimeout: spec('TSDM-50024', 'coordination', false, 'the task did not reach the awaited state in time', 'Look at `dmctl query-status TASK` for its stage and error; raise --timeout if it is only slow.'),
  MemberAlive: spec('TSDM-50025', 'coordination', false, 'the agent is still alive', 'Stop the agent first (systemctl stop dm-agent), then offline it.'),
  // ---- internal (6xxxx)
  Internal: spec('TSDM-60001', 'internal', false, 'internal error', 'Report it with the agent log; the subtask is paused with its checkpoint intact.'),
  UnsupportedEvent: spec('TSDM-60002', 'internal', false, 'binlog event cannot be replicated', 'Skip or replace it (DDL), or open an issue with the event shown.'),
  ExpressionFilterEval: spec('TSDM-60004', 'internal', false, 'an expression filter failed on a row', 'The subtask paused before the row: fix the expression (e.g. JSON functions on a column that is not valid JSON) in the task file and restart the task, or skip the event with `dmctl binlog skip`.'),
  FilterError: spec('TSDM-60003', 'internal', false, 'a binlog event (a row change, a DDL statement or one clause of an ALTER) matched a filter rule with action Error; the message names the rule and the event', 'This is what the filter rule asks for: skip the event (`dmctl binlog skip TASK`) or replace it (`dmctl binlog replace TASK "<sql>"`), or change the rule.'),
} as const satisfies Record<string, ErrorSpec>;

export type ErrorName = keyof typeof Errors;
