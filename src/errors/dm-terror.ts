import type { ErrorName } from './catalog.ts';
import { Errors } from './catalog.ts';

/**
 * tsdm's error codes that have a counterpart in DM's terror list (pingcap/tiflow dm/_utils/terror_gen/
 * errors_release.txt: `ErrName,[code=N:class=C:scope=S:level=L]`), for `dmctl query-status --format dm`: the
 * ProcessError of such an error carries DM's ErrCode, ErrClass, ErrScope and ErrLevel, so a script that looks for
 * DM's code (e.g. 36069 when the binlog is purged) finds it. Only codes whose cause is the same are here; every other
 * tsdm code keeps its own number (docs/commands.md). The one table: docs/commands.md lists it.
 *
 * Scope `not-set` is what DM's list has for its database errors; DM sets the side where it knows it
 * (terror.WithScope), and so does tsdm: the error's class when it is upstream or downstream.
 */
export interface DmTerror {
  /** DM's name, for the docs and for readers of this table. */
  name: string;
  code: number;
  class: string;
  scope: 'not-set' | 'upstream' | 'downstream' | 'internal';
  level: 'low' | 'medium' | 'high';
}

const t = (name: string, code: number, cls: string, scope: DmTerror['scope'], level: DmTerror['level']): DmTerror => ({
  name,
  code,
  class: cls,
  scope,
  level,
});

export const DM_TERROR: Partial<Record<ErrorName, DmTerror>> = {
  // config
  ConfigYamlSyntax: t('ErrConfigYamlTransform', 20003, 'config', 'internal', 'medium'),
  MetaRequired: t('ErrConfigMetaInvalid', 20011, 'config', 'internal', 'medium'),
  SecretKey: t('ErrConfigSecretKeyPath', 20067, 'config', 'internal', 'high'),
  StartTimeTooLate: t('ErrConfigStartTimeTooLate', 20057, 'config', 'internal', 'high'),
  TlsFile: t('ErrConnInvalidTLSConfig', 11112, 'functional', 'internal', 'medium'),
  // sources, tasks, agents (DM's scheduler and master)
  SourceNotFound: t('ErrSchedulerSourceCfgNotExist', 46008, 'scheduler', 'internal', 'medium'),
  SourceExists: t('ErrSchedulerSourceCfgExist', 46007, 'scheduler', 'internal', 'medium'),
  SourceInUse: t('ErrSchedulerSourceOpTaskExist', 46010, 'dm-master', 'internal', 'medium'),
  TaskNotFound: t('ErrSchedulerTaskNotExist', 46018, 'scheduler', 'internal', 'medium'),
  TaskExists: t('ErrSchedulerSubTaskExist', 46014, 'scheduler', 'internal', 'medium'),
  AgentNotFound: t('ErrSchedulerWorkerNotExist', 46004, 'scheduler', 'internal', 'medium'),
  NoLeader: t('ErrMasterRequestIsNotForwardToLeader', 38043, 'dm-master', 'internal', 'high'),
  TaskNotPaused: t('ErrWorkerNotPausedStage', 40051, 'dm-worker', 'internal', 'high'),
  SyncNotRunning: t('ErrWorkerNotRunningStage', 40050, 'dm-worker', 'internal', 'high'),
  ShardLockNotFound: t('ErrMasterLockNotFound', 38019, 'dm-master', 'internal', 'high'),
  ValidationNotHere: t('ErrValidatorNotFound', 43006, 'validator', 'not-set', 'medium'),
  // databases
  // DM reports a connection the driver could not open (refused, access denied) as its driver error.
  UpstreamConnect: t('ErrDBDriverError', 10001, 'database', 'not-set', 'high'),
  UpstreamAuth: t('ErrDBDriverError', 10001, 'database', 'not-set', 'high'),
  DownstreamConnect: t('ErrDBDriverError', 10001, 'database', 'not-set', 'high'),
  DownstreamAuth: t('ErrDBDriverError', 10001, 'database', 'not-set', 'high'),
  UpstreamQuery: t('ErrDBQueryFailed', 10005, 'database', 'not-set', 'high'),
  DownstreamExec: t('ErrDBExecuteFailed', 10006, 'database', 'not-set', 'high'),
  DownstreamPacketTooLarge: t('ErrDBExecuteFailed', 10006, 'database', 'not-set', 'high'),
  // binlog and relay
  BinlogPurged: t('ErrSyncerGetEvent', 36069, 'sync-unit', 'upstream', 'high'),
  BinlogStream: t('ErrSyncerGetEvent', 36069, 'sync-unit', 'upstream', 'high'),
  RelayPositionNotFound: t('ErrNoRelayLogMatchPos', 11036, 'functional', 'internal', 'high'),
  RelayPurgeRefused: t('ErrRelayPurgeIsForbidden', 30037, 'relay-unit', 'internal', 'high'),
  // shard DDL and the schema tracker
  ShardDdlConflict: t('ErrSyncerShardDDLConflict', 36062, 'sync-unit', 'internal', 'high'),
  ShardDdlUnsupported: t('ErrSyncerUnsupportedStmt', 36068, 'sync-unit', 'internal', 'high'),
  ShardDdlMultipleTables: t('ErrSyncerUnitDDLOnMultipleTable', 36022, 'sync-unit', 'internal', 'high'),
  SchemaCreateInvalid: t('ErrSchemaTrackerInvalidCreateTableStmt', 44009, 'schema-tracker', 'internal', 'medium'),
  SchemaTableUnknown: t('ErrSchemaTrackerCannotGetTable', 44005, 'schema-tracker', 'internal', 'high'),
};

const byCode = new Map<string, DmTerror>(
  Object.entries(DM_TERROR).map(([name, d]) => [Errors[name as ErrorName].code, d as DmTerror]),
);

/** DM's terror for a tsdm code (`TSDM-20009`), if it has one. */
export function dmTerror(code: string): DmTerror | undefined {
  return byCode.get(code);
}
