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

  constructor(readonly writerCount: number) {
    this.perWriter = Array.from({ length: writerCount }, () => []);
  }

  get empty(): boolean {
    return this.rows === 0;
  }

  /** Adds a transaction; false when it conflicts with the batch (flush first, then add to a new dispatcher). */
  tryAdd(txn: Txn): boolean {
    if (this.rows > 0 && !this.sameIdentities(txn)) return false;
    const tentative = new Map<string, number>();
    const assigned: number[] = [];
    const ownerOf = (k: string) => tentative.get(k) ?? this.owner.get(k);
    let conflict = false;
    const keysPer = txn.changes.map(causalityKeys);
    for (const [i, keys] of keysPer.entries()) {
      const ws = new Set<number>();
      const forced = txn.changes[i]!.writer;
      if (forced !== undefined) ws.add(forced);
      for (const k of keys) {
        const w = ownerOf(k);
        if (w !== undefined) ws.add(w);
      }
      if (ws.size > 1) {
        conflict = true;
        break;
      }
      const w = ws.size === 1 ? [...ws][0]! : hash(keys[0] ?? '') % this.writerCount;
      for (const k of keys) tentative.set(k, w);
      assigned.push(w);
    }
    if (conflict) {
      if (this.owner.size > 0) return false;
      // Alone in a batch, a self-conflicting transaction goes whole to one writer.
      const w =
        txn.changes.find((c) => c.writer !== undefined)?.writer ?? hash(keysPer[0]?.[0] ?? '') % this.writerCount;
      for (const keys of keysPer) for (const k of keys) this.owner.set(k, w);
      for (const c of txn.changes) this.perWriter[w]!.push(c);
      this.rows += txn.changes.length;
      this.noteIdentities(txn);
      return true;
    }
    for (const [k, w] of tentative) this.owner.set(k, w);
    txn.changes.forEach((c, i) => this.perWriter[assigned[i]!]!.push(c));
    this.rows += txn.changes.length;
    this.noteIdentities(txn);
    return true;
  }

  /** False when a change carries another identity than the batch's rows of its upstream structure and target. */
  private sameIdentities(txn: Txn): boolean {
    return txn.changes.every((c) => {
      const seen = this.identities.get(c.info);
      return !seen || !sameTarget(seen.target, c.target) || sameIdentity(seen.identity, c.identity);
    });
  }

  private noteIdentities(txn: Txn): void {
    for (const c of txn.changes) this.identities.set(c.info, { target: c.target, identity: c.identity });
  }
}

function sameTarget(a: TableName, b: TableName): boolean {
  return a === b || (a.schema === b.schema && a.table === b.table);
}

/** The keys a change owns: every downstream unique key value of its before and after images (row-identity.ts). */
export function causalityKeys(rc: RoutedChange): string[] {
  const t = `${tableKey(rc.target)}`;
  const images = [rc.change.before, rc.change.after].filter((x): x is Record<string, Value> => x !== undefined);
  return identityKeys(t, rc.identity ?? identityFor(rc.info, undefined), images);
}
