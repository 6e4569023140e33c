import { spec, type ErrorSpec } from './spec.ts';

/** The catalog's downstream errors (TSDM-3xxxx), in the order docs/errors.md lists them. */
export const downstreamErrors = {
  DownstreamConnect: spec(
    'TSDM-30001',
    'downstream',
    true,
    'cannot connect to the downstream database',
    'Check target-database host/port and that the server runs; the unit retries.',
  ),
  DownstreamAuth: spec(
    'TSDM-30002',
    'downstream',
    false,
    'downstream rejected the user or password',
    'Check target-database.user/password in the task file.',
  ),
  DownstreamExec: spec(
    'TSDM-30003',
    'downstream',
    false,
    'statement failed on the downstream',
    'Fix the downstream (or the routing) so the statement can apply, then `dmctl resume-task`.',
  ),
  DownstreamTransient: spec(
    'TSDM-30004',
    'downstream',
    true,
    'transient downstream error (deadlock, lock wait, connection lost)',
    'Nothing to do: the unit retries with backoff.',
  ),
  DownstreamSchema: spec(
    'TSDM-30005',
    'downstream',
    false,
    'table structure cannot be created downstream',
    'Create the table downstream by hand with a compatible definition, then `dmctl resume-task`.',
  ),
  CheckpointCorrupt: spec(
    'TSDM-30006',
    'downstream',
    false,
    'checkpoint in meta-schema is unreadable',
    'Restart the task with `dmctl start-task --remove-meta` (full migration again).',
  ),
  DownstreamExtendColumns: spec(
    'TSDM-30007',
    'downstream',
    false,
    'a route extracts columns (extract-table/schema/source) the downstream table does not have',
    'Create the downstream table by hand with every target-column of the route (e.g. VARCHAR(64), part of the primary key when shards can share key values) before start-task; DM requires the same.',
  ),
  LoadResumeMerged: spec(
    'TSDM-30008',
    'downstream',
    false,
    'a load resumed after upstream DDL cannot reload a table merged with others downstream',
    "Restart the task's migration from the beginning (stop-task, drop its target tables, start-task --remove-meta); avoid DDL on shard tables while they load.",
  ),
  DownstreamConnLimit: spec(
    'TSDM-30021',
    'downstream',
    false,
    "the task needs more connections than the downstream's max_connections (or the user's max_user_connections) allows",
    "Raise the downstream's max_connections (or the user's MAX_USER_CONNECTIONS), or lower the task's syncer worker-count (syncer-thread), loader pool-size (loader-thread), mydumper threads or validator worker-count; check-task lists what each source opens.",
  ),
  DownstreamPacketTooLarge: spec(
    'TSDM-30022',
    'downstream',
    false,
    "a statement or LOAD DATA line is larger than the downstream's max_allowed_packet (1153)",
    "Raise max_allowed_packet on the downstream (`SET GLOBAL max_allowed_packet = 1073741824`, and in its config file; TiDB's default is 64 MB) above the largest row's size, with room: sync sends a row with large binary values as statement arguments (its own size), but a load into TiDB and smaller values in sync are written as hex, twice their bytes. Then `dmctl resume-task`: the checkpoint is where the failed write started.",
  ),
} as const satisfies Record<string, ErrorSpec>;
