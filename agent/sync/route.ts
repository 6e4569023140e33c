import { type BinlogPosition, comparePos, posKey } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import type { TableName } from '../../src/sql/table-name.ts';
import type { RowChange, TxnEvent } from '../binlog/events.ts';
import type { ExtendedColumns } from '../../src/route/router.ts';
import type { TableInfo } from '../db/schema.ts';
import { shiftTimestamp } from '../db/timezone.ts';
import type { RoutedChange, Txn } from './dispatcher.ts';
import { extendedInfo, withExtendedColumns } from './extend-columns.ts';
import type { RowIdentity } from './row-identity.ts';
import type { SyncState } from './state.ts';

/** What routing decides per upstream table structure (a TableInfo object: one per table version), kept across
 * transactions (SyncState.routes): a single-row transaction used to decide all of it again, and its fresh target object
 * made every per-target memo downstream of it miss (~10 % of a single-row catch-up's agent CPU). */
export interface TableRoute {
  schema: string;
  table: string;
  loaded: BinlogPosition | undefined;
  target: TableName;
  ext: ExtendedColumns | undefined;
  /** The structure rows are written with (`info` plus extended columns). */
  info: TableInfo;
  /** Event-filter decision per operation, made on first use. */
  insert?: FilterDecision;
  update?: FilterDecision;
  delete?: FilterDecision;
  /** The row identity while `st.ids.version` is `idsVersion` (the cache was not dropped since). */
  id: RowIdentity | undefined;
  idsVersion: number;
}

type FilterDecision = ReturnType<SyncState['ctx']['rules']['eventAction']>;

function tableRoute(st: SyncState, change: RowChange): TableRoute {
  const hit = st.routes.get(change.info);
  if (hit && hit.schema === change.schema && hit.table === change.table) return hit;
  const rules = st.ctx.rules;
  const { schema, table, info } = change;
  const ext = rules.extendColumns(schema, table);
  const r: TableRoute = {
    schema,
    table,
    loaded: st.loadedAt.get(`${schema}.${table}`),
    target: rules.route(schema, table),
    ext,
    info: ext ? extendedInfo(info, ext) : info,
    id: undefined,
    idsVersion: -1,
  };
  st.routes.set(info, r);
  return r;
}

/**
 * Filters (event filter per DML type), routes and attaches structure and downstream row identity to a transaction's
 * changes (the sync unit's read loop, unit.ts). `part`: a part of a transaction still open (big-txn.ts), whose end is
 * not known yet: it ends after every table's load position (the caller checked), so none is skipped.
 *
 * Synchronous unless a table's downstream identity must be read first (a promise then): the read loop awaits only
 * then. A change is touched (time zone shift) only after its identity is known, so a resumed run starts at it afresh.
 */
export function routeTxn(st: SyncState, ev: TxnEvent, part = false): Txn | Promise<Txn> {
  return routeFrom(st, ev, part, [], 0);
}

function routeFrom(st: SyncState, ev: TxnEvent, part: boolean, out: RoutedChange[], from: number): Txn | Promise<Txn> {
  const rules = st.ctx.rules;
  const changes = ev.changes;
  for (let i = from; i < changes.length; i++) {
    const change = changes[i]!;
    const r = tableRoute(st, change);
    const op = change.op;
    const decision = r[op] ?? (r[op] = rules.eventAction(r.schema, r.table, op));
    const action = decision.action;
    if (action === 'Ignore') continue;
    if (action === 'Error') {
      throw new DmError(
        'FilterError',
        `${op} on ${r.schema}.${r.table} is stopped by filter rule ${decision.rule ?? '?'} (action Error)`,
        { context: { table: `${r.schema}.${r.table}`, position: posKey(ev.end) } },
      );
    }
    // Online-DDL shadow/trash tables and expression filters (DM, sync only), before the zone shift below: TIMESTAMP
    // values are still UTC here.
    if (rules.skipRow(change)) continue;
    if (r.loaded && !part && comparePos(ev.end, r.loaded) <= 0) continue;
    // A shard table held by a DDL lock: skipped while blocked, replayed through writer 0 once released.
    const held = st.shard ? st.shard.rowDecision(r.schema, r.table, ev.end) : 'normal';
    if (held === 'skip') continue;
    // The identity of the target's downstream table (nothing refreshes the identity cache while a transaction is
    // routed; between transactions `ids.version` says whether it was).
    if (r.idsVersion !== st.ids.version) {
      const id = st.ids.peek(r.target, r.info);
      if (!id) return st.ids.resolve(r.target, r.info).then(() => routeFrom(st, ev, part, out, i));
      r.id = id;
      r.idsVersion = st.ids.version;
    }
    if (st.zone.offsetMinutes !== 0) shiftTimestamps(change, st.zone.offsetMinutes);
    const id = r.id!;
    const rc: RoutedChange = {
      change: r.ext ? withExtendedColumns(change, r.ext) : change,
      target: r.target,
      info: r.info,
      key: id.key,
      identity: id,
      txnEnd: ev.end,
    };
    if (held === 'forced') rc.writer = 0;
    out.push(rc);
  }
  return { end: ev.end, changes: out };
}

function shiftTimestamps(change: TxnEvent['changes'][number], offsetMinutes: number): void {
  for (const col of change.info.columns) {
    if (col.dataType !== 'timestamp') continue;
    for (const img of [change.before, change.after]) {
      const v = img?.[col.name];
      if (img && typeof v === 'string') img[col.name] = shiftTimestamp(v, offsetMinutes);
    }
  }
}
