import type { Connection } from 'mysql2/promise';
import { faultAfter } from '../fault.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { SchemaTracker } from '../../src/schema/model.ts';
import type { UpstreamCollationInfo } from '../db/collations.ts';
import { taskZone, type Zone } from '../db/timezone.ts';
import type { ShardCoordinator } from '../shard/coordinator.ts';
import type { SubtaskContext } from '../unit.ts';
import type { RoutedChange } from './dispatcher.ts';
import { CascadeRules } from './foreign-keys.ts';
import { loadDownstreamTable, RowIdentities } from './row-identity.ts';
import type { TableRoute } from './route.ts';
import type { TableInfo } from '../db/schema.ts';
import { TableFigures } from './table-figures.ts';

/**
 * Told of the row changes sync committed, right after their commit (continuous validation implements it:
 * agent/verify/validator.ts). Called on the sync loop: it must only note the rows, never wait. Unset, it costs one
 * property check per batch.
 */
export interface AppliedRows {
  applied(shares: readonly (readonly RoutedChange[])[]): void;
}

/** Counters behind the sync unit's progress report. */
export interface SyncStats {
  totalRows: number;
  totalEvents: number;
  /** Timestamp (seconds) of the last event applied: the lag is measured from it. */
  lastTs: number;
  rate: number;
  rateWindowRows: number;
  rateWindowStart: number;
}

/**
 * What the sync unit's modules share (unit.ts, resume.ts, apply.ts, ddl.ts): one explicit object, owned by the unit.
 *
 * Invariants (see checkpoint.ts): writer w's checkpoint (`writerPos[w]`) moves only inside the transaction that
 * applies w's share of the batch ending at that position; the stream resumes at the lowest writer checkpoint; on
 * replay writer w skips transactions ending at or before its own checkpoint.
 */
export class SyncState {
  /** Downstream sessions run in the task's time zone; TIMESTAMP values are moved to it (db/timezone.ts). */
  readonly zone: Zone;
  /** The upstream schema as of the stream position (owned by the reader once it runs). */
  tracker!: SchemaTracker;
  /** The subtask's checkpoint connection; replaced (and then owned here: `ownDown`) when the server closed it. */
  down: Connection;
  ownDown: Connection | undefined;
  writers: Connection[] = [];
  writerPos: BinlogPosition[] = [];
  writerCount = 1;
  /**
   * After a stop with writers at two positions (a batch committed by some writers, not all): the higher one, the end
   * of that batch. Until the stream reaches it, the batch being replayed is cut nowhere but at a barrier (resume.ts mayCut): it then holds
   * the same transactions from the same start as the one that committed, so the dispatcher gives every change the same
   * writer (its choice depends only on the batch's earlier changes), and a writer's skip of what its checkpoint covers
   * skips exactly what that writer committed. Cut earlier (a timer, an idle reader), a change whose writer came from a
   * key an earlier change of the batch owned could land on the writer that had committed, and be skipped.
   */
  replayTo: BinlogPosition | undefined;
  /**
   * The same stop's batch, kept until every writer committed its replay: (from, to], the lowest and the highest writer
   * checkpoint. A keyed change in it that a writer's checkpoint covers is applied again in safe mode (apply.ts), so the
   * replay stays right even when the dispatcher gives a change another writer than the first run did (the downstream's
   * keys changed while the agent was down). Changes at or before a checkpoint met elsewhere (a shard lock's replay)
   * are skipped as always.
   */
  reapply: { from: BinlogPosition; to: BinlogPosition } | undefined;
  /** Crash test: every transaction a batch of its own, as if each were the last read (agent/fault.ts faultAfter). */
  readonly cutEach = faultAfter('writer-split');
  /** The lowest position every writer has committed (what the report shows). */
  synced!: BinlogPosition;
  /** Safe mode (REPLACE for inserts) runs until the stream passes this position (resume.ts). */
  safeUntil: BinlogPosition | undefined;
  /** Safe mode also runs until this wall-clock time (ms): the task's first start, safe-mode-duration (resume.ts). */
  safeUntilMs: number | undefined;
  /**
   * The first start's window is recorded open in `<task>_safe_window` (resume.ts): once it has run out, `safeClosesAt`
   * is where the reader was then (every change written in safe mode ends at or before it), and the window is recorded
   * run out when every writer has committed up to there (resume.ts recordSafeWindow, called by unit.ts).
   */
  safeWindowOpen = false;
  safeClosesAt: BinlogPosition | undefined;
  /**
   * Tables whose loaded rows already hold their events up to a position, so sync skips those events: keyless tables
   * (one chunk, loaded from one snapshot) and tables a resumed load reloaded whole (agent/load/load-reconcile.ts).
   */
  readonly loadedAt = new Map<string, BinlogPosition>();
  /** Schemas whose own DDL (CREATE/DROP DATABASE) up to a position belongs to a reloaded table's history. */
  readonly schemaLoadedAt = new Map<string, BinlogPosition>();
  /** Shard-DDL coordination (shard-mode pessimistic or optimistic; agent/shard/coordinator.ts). */
  shard: ShardCoordinator | undefined;
  /** Foreign-key rules downstream that cascade (read again after every DDL: `fkStale`). */
  fk = CascadeRules.none;
  fkStale = true;
  /** Row identity per target table from the downstream's keys (sync/row-identity.ts); dropped after DDL and lock steps,
   * always with the batch flushed first (a row's changes under two identities must not share a batch). */
  readonly ids: RowIdentities;
  /** Routing decided per upstream table structure, kept across transactions (route.ts). */
  readonly routes = new WeakMap<TableInfo, TableRoute>();
  /** collation_compatible: strict — the upstream's collation defaults (read at start, like DM's syncer). */
  collations: UpstreamCollationInfo | undefined;
  /** Continuous validation's hook (undefined: off). */
  appliedRows: AppliedRows | undefined;
  /** Rows and lag per target table since the unit started (the report's `perTable`). */
  readonly tables = new TableFigures();
  /** The downstream refused READ COMMITTED for a writer (said once in the log: apply.ts openWriter). */
  isolationWarned = false;
  readonly stats: SyncStats = {
    totalRows: 0,
    totalEvents: 0,
    lastTs: 0,
    rate: 0,
    rateWindowRows: 0,
    rateWindowStart: Date.now(),
  };

  constructor(
    readonly ctx: SubtaskContext,
    down: Connection,
  ) {
    this.down = down;
    this.zone = taskZone(ctx.task);
    this.ids = new RowIdentities((t) => loadDownstreamTable(this.down, t));
  }
}
