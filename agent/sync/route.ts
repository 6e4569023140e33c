import { type BinlogPosition, comparePos, posKey } from '../../src/binlog/position.ts';
import { DmError } from '../../src/errors/index.ts';
import type { TableName } from '../../src/sql/table-name.ts';
import type { TxnEvent } from '../binlog/events.ts';
import { rowKey, type TableInfo } from '../db/schema.ts';
import { shiftTimestamp } from '../db/timezone.ts';
import type { RoutedChange, Txn } from './dispatcher.ts';
import { extendRouted } from './extend-columns.ts';
import type { RowIdentity } from './row-identity.ts';
import type { SyncState } from './state.ts';

/** Filters (event filter per DML type), routes and attaches structure and downstream row identity to a
 * transaction's changes (the sync unit's read loop, unit.ts). `part`: a part of a transaction still open (big-txn.ts),
 * whose end is not known yet: it ends after every table's load position (the caller checked), so none is skipped. */
export async function routeTxn(st: SyncState, ev: TxnEvent, part = false): Promise<Txn> {
  const rules = st.ctx.rules;
  const out: RoutedChange[] = [];
  // What depends only on the table (and the operation) is decided once per run of changes of one table: a 100-row
  // statement is 100 changes of one table, and each decision allocates (keys, copies), ~5 % of a catch-up's CPU.
  // These are pure functions of their arguments within one transaction.
  let schema: string | undefined;
  let table: string | undefined;
  let op: string | undefined;
  let decision: ReturnType<typeof rules.eventAction> | undefined;
  let loaded: BinlogPosition | undefined;
  let target: TableName | undefined;
  let ext: ReturnType<typeof rules.extendColumns>;
  let idTarget: TableName | undefined;
  let idInfo: TableInfo | undefined;
  let id: RowIdentity | undefined;
  for (const change of ev.changes) {
    if (change.schema !== schema || change.table !== table) {
      schema = change.schema;
      table = change.table;
      op = undefined;
      loaded = st.loadedAt.get(`${schema}.${table}`);
      target = undefined;
    }
    if (change.op !== op) {
      op = change.op;
      decision = rules.eventAction(schema, table!, change.op);
    }
    const { action, rule } = decision!;
    if (action === 'Ignore') continue;
    if (action === 'Error') {
      throw new DmError(
        'FilterError',
        `${change.op} on ${schema}.${table} is stopped by filter rule ${rule ?? '?'} (action Error)`,
        { context: { table: `${schema}.${table}`, position: posKey(ev.end) } },
      );
    }
    // Online-DDL shadow/trash tables and expression filters (DM, sync only), before the zone shift below: TIMESTAMP
    // values are still UTC here.
    if (rules.skipRow(change)) continue;
    if (loaded && !part && comparePos(ev.end, loaded) <= 0) continue;
    // A shard table held by a DDL lock: skipped while blocked, replayed through writer 0 once released.
    const held = st.shard?.rowDecision(schema, table!, ev.end) ?? 'normal';
    if (held === 'skip') continue;
    if (st.zone.offsetMinutes !== 0) shiftTimestamps(change, st.zone.offsetMinutes);
    if (target === undefined) {
      target = rules.route(schema, table!);
      ext = rules.extendColumns(schema, table!);
    }
    const rc: RoutedChange = {
      change,
      target,
      info: change.info,
      key: rowKey(change.info),
      txnEnd: ev.end,
    };
    if (held === 'forced') rc.writer = 0;
    const routed = extendRouted(rc, ext);
    // The identity of the previous change when target and structure are the same objects (nothing refreshes the
    // identity cache while a transaction is routed).
    if (routed.target !== idTarget || routed.info !== idInfo) {
      idTarget = routed.target;
      idInfo = routed.info;
      id = st.ids.peek(routed.target, routed.info) ?? (await st.ids.resolve(routed.target, routed.info));
    }
    routed.identity = id;
    routed.key = id!.key;
    out.push(routed);
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
