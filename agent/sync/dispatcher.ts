import { type TableName, tableKey } from '../../src/sql/table-name.ts';
import type { RowChange } from '../binlog/events.ts';
import type { BinlogPosition } from '../../src/binlog/position.ts';
import type { Value } from '../db/mysql.ts';
import type { TableInfo } from '../db/schema.ts';
import { hash } from '../hash.ts';
import {
  causalityKeys as identityKeys,
  identityFor,
  sameIdentity,
  valuesKey,
  type RowIdentity,
} from './row-identity.ts';

export { valuesKey };

/**
 * A batch holds up to max(batch × worker-count, this many) row changes (sync/unit.ts). 6,000 against 2,000: the 100-row
 * catch-up 11 % faster in five alternated pairs (fewer lockstep points and commits), the single-row one no slower, the
 * same RSS peak (bench/README.md, twelfth session).
 */
export const BATCH_FLOOR = 6000;
/**
 * ... and up to about this many bytes of row values (`rowBytes`): in a catch-up the loop takes queued transactions
 * without waiting, so its flush timer does not bound a batch of wide rows. A writer's transaction stays well under
 * TiDB's default txn-total-size-limit (100 MiB) even with binary values sent as hex, and the batch's memory bounded.
 */
export const BATCH_BYTES = 16 << 20;

/** Bytes of a change's row values, roughly (the image it writes: after, or before for a delete). */
export function rowBytes(c: RowChange): number {
  const img = c.after ?? c.before;
  let n = 0;
  for (const k in img) {
    const v = img[k];
    n += typeof v === 'string' ? v.length : v instanceof Uint8Array ? v.byteLength : 8;
  }
  return n;
}

/** A row change ready to apply: routed, with the upstream table's structure and the end of its transaction. */
export interface RoutedChange {
  change: RowChange;
  target: TableName;
  info: TableInfo;
  /** Columns identifying a row ([] = table without a usable key): the downstream table's (`identity.key`) once the
   * sync unit resolved it, else the upstream's. */
  key: string[];
  /** Row identity from the downstream table (agent/sync/row-identity.ts); absent = the upstream's keys stand in. */
  identity?: RowIdentity;
  txnEnd: BinlogPosition;
  /** Forced writer: a held shard table's replayed change, applied by writer 0 whatever the writer checkpoints say. */
  writer?: number;
}

export interface Txn {
  end: BinlogPosition;
  changes: RoutedChange[];
}

/**
 * Causality dispatch (DESIGN.md §4 "parallel apply"). Worked example, 2 writers:
 *
 *   txn1: UPDATE t SET uk='x' WHERE id=1     keys {t|pk|1, t|uk|x, t|uk|w (old value)}  -> hash -> writer 0
 *   txn2: INSERT t (id=2, uk='w')            keys {t|pk|2, t|uk|w}   t|uk|w is owned by writer 0 -> writer 0
 *   txn3: INSERT t (id=3, uk='z')            keys {t|pk|3, t|uk|z}   all new -> hash -> writer 1
 *
 * Within one batch every key (the downstream table's primary key value and each of its unique key values, before and
 * after images, folded as its collations compare them, see row-identity.ts; a keyless table is one key) is owned by
 * exactly one writer, so all changes touching a key apply in binlog order on one connection, and no two writers can
 * collide on a unique index. A transaction whose keys are owned by two writers
 * cannot join the batch: the caller flushes (a barrier) and adds it to the next batch, where it may take all its
 * changes to one writer.
 *
 * Keys are only comparable under one row identity: when the downstream's keys change (another source's shard DDL,
 * seen as a refreshed identity cache), one row's changes before and after carry two identities, hence two unrelated
 * keys (a keyless target's one key `t|*`, then `t|pk|5`), and could land on two writers that commit in either order.
 * So a transaction whose rows carry an identity other than the one the batch holds for the same upstream structure and
 * target is refused too: the caller flushes, and the new identity starts a batch of its own. (The sync unit also
 * flushes before it refreshes the cache; this keeps the invariant whoever refreshes it.)
 */
export class Dispatcher {
  private readonly owner = new Map<string, number>();
  /** The row identity each upstream structure's rows carry in this batch, per target. */
  private readonly identities = new Map<TableInfo, { target: TableName; identity: RowIdentity | undefined }>();
  readonly perWriter: RoutedChange[][];
  rows = 0;
  /** Bytes of the batch's row values (rowBytes). */
  bytes = 0;
  /** Upstream transactions in the batch (dm_syncer_finished_transaction_total once committed). */
  txns = 0;

  constructor(readonly writerCount: number) {
    this.perWriter = Array.from({ length: writerCount }, () => []);
  }

  get empty(): boolean {
    return this.rows === 0;
  }

  /** At `rows` row changes or BATCH_BYTES of row values: flush. */
  full(rows: number): boolean {
    return this.rows >= rows || this.bytes >= BATCH_BYTES;
  }

  /** Adds a transaction; false when it conflicts with the batch (flush first, then add to a new dispatcher). */
  tryAdd(txn: Txn): boolean {
    // Plain loops: this runs for every row change, and under tsx each closure created costs an
    // Object.defineProperty (esbuild keepNames).
    const changes = txn.changes;
    if (this.rows > 0 && !this.sameIdentities(changes)) return false;
    if (changes.length === 1) return this.addOne(changes[0]!);
    const owned = this.owner.size;
    // Keys are claimed in `owner` directly; those this transaction added are taken back if it cannot join. (A key
    // already owned keeps its owner: a change that joins takes that writer, so writing it again changes nothing.)
    const added: string[] = [];
    const assigned: number[] = new Array<number>(changes.length);
    const keysPer: string[][] = new Array<string[]>(changes.length);
    for (let i = 0; i < changes.length; i++) keysPer[i] = causalityKeys(changes[i]!);
    let conflict = false;
    for (let i = 0; i < changes.length && !conflict; i++) {
      const keys = keysPer[i]!;
      // The one writer that owns any of the change's keys (or its forced writer); two: a conflict.
      let w = changes[i]!.writer;
      const from = added.length;
      for (const k of keys) {
        const o = this.owner.get(k);
        if (o === undefined) added.push(k);
        else if (o === w) continue;
        else if (w === undefined) w = o;
        else {
          conflict = true;
          break;
        }
      }
      if (conflict) break;
      if (w === undefined) w = hash(keys[0] ?? '') % this.writerCount;
      for (let j = from; j < added.length; j++) this.owner.set(added[j]!, w);
      assigned[i] = w;
    }
    if (conflict) {
      for (const k of added) this.owner.delete(k);
      if (owned > 0) return false;
      // Alone in a batch, a self-conflicting transaction goes whole to one writer.
      let w: number | undefined;
      for (const c of changes) if (w === undefined && c.writer !== undefined) w = c.writer;
      if (w === undefined) w = hash(keysPer[0]?.[0] ?? '') % this.writerCount;
      for (const keys of keysPer) for (const k of keys) this.owner.set(k, w);
      for (const c of changes) this.perWriter[w]!.push(c);
      this.counted(changes);
      return true;
    }
    for (let i = 0; i < changes.length; i++) this.perWriter[assigned[i]!]!.push(changes[i]!);
    this.counted(changes);
    return true;
  }

  /** A transaction of several changes joined: its rows, bytes and identities. */
  private counted(changes: RoutedChange[]): void {
    this.rows += changes.length;
    for (const c of changes) this.bytes += rowBytes(c.change);
    this.txns++;
    this.noteIdentities(changes);
  }

  /** tryAdd of a one-change transaction (every transaction of a single-row workload) without its per-transaction
   * arrays. The same rules: its keys' one owner (or its forced writer) takes it, two owners are a conflict, and a
   * conflict cannot happen in an empty batch (nothing is owned yet). */
  private addOne(c: RoutedChange): boolean {
    const keys = causalityKeys(c);
    let w = c.writer;
    for (const k of keys) {
      const o = this.owner.get(k);
      if (o === undefined || o === w) continue;
      if (w === undefined) w = o;
      else return false;
    }
    if (w === undefined) w = hash(keys[0] ?? '') % this.writerCount;
    for (const k of keys) this.owner.set(k, w);
    this.perWriter[w]!.push(c);
    this.rows++;
    this.bytes += rowBytes(c.change);
    this.txns++;
    const seen = this.identities.get(c.info);
    if (!seen || seen.target !== c.target || seen.identity !== c.identity)
      this.identities.set(c.info, { target: c.target, identity: c.identity });
    return true;
  }

  /** False when a change carries another identity than the batch's rows of its upstream structure and target. */
  private sameIdentities(changes: RoutedChange[]): boolean {
    for (const c of changes) {
      const seen = this.identities.get(c.info);
      if (seen && sameTarget(seen.target, c.target) && !sameIdentity(seen.identity, c.identity)) return false;
    }
    return true;
  }

  private noteIdentities(changes: RoutedChange[]): void {
    for (const c of changes) {
      const seen = this.identities.get(c.info);
      // The same objects: nothing to note (an entry per change was garbage for every row).
      if (seen && seen.target === c.target && seen.identity === c.identity) continue;
      this.identities.set(c.info, { target: c.target, identity: c.identity });
    }
  }
}

function sameTarget(a: TableName, b: TableName): boolean {
  return a === b || (a.schema === b.schema && a.table === b.table);
}

/** The keys a change owns: every downstream unique key value of its before and after images (row-identity.ts). */
export function causalityKeys(rc: RoutedChange): string[] {
  const { before, after } = rc.change;
  const images: Record<string, Value>[] = [];
  if (before !== undefined) images.push(before);
  if (after !== undefined) images.push(after);
  if (rc.target !== lastTarget) {
    lastTarget = rc.target;
    lastTableKey = tableKey(rc.target);
  }
  return identityKeys(lastTableKey, rc.identity ?? identityFor(rc.info, undefined), images);
}

/** The changes of one transaction share their target object (sync unit route): its key is built once per run. */
let lastTarget: TableName | undefined;
let lastTableKey = '';
