/**
 * Recorded read-model states for the dashboard's component tests: each is a list of KV entries as the watches deliver
 * them (bucket, key, value, when), folded through the same reducer the live store uses.
 */
import {
  Bucket,
  Keys,
  type BoundRecord,
  type LeaderRecord,
  type MemberRecord,
  type RelayStatus,
  type SubtaskStatus,
  type TaskRecord,
} from '../../src/coord/index.ts';
import type { ErrorRecord } from '../../src/errors/index.ts';
import { initialState, reduce, type DashboardState } from '../../tui/dashboard/read-model.ts';
import React from 'react';
import { render } from 'ink-testing-library';
import { App } from '../../tui/dashboard/App.tsx';
import type { DashboardActions } from '../../tui/dashboard/actions.ts';
import type { PendingAction, UiState } from '../../tui/dashboard/ui-state.ts';
import { fixedSource, type ReadModelSource } from '../../tui/dashboard/use-read-model.ts';

export const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

export interface Recorded {
  bucket: Bucket;
  key: string;
  value?: unknown;
  msAgo?: number;
  revision?: number;
}

export function replay(entries: Recorded[], cluster = 'dm'): DashboardState {
  let s = reduce(initialState(cluster, 'nats://127.0.0.1:4222', NOW - 60_000), {
    type: 'connection',
    state: 'connected',
    at: NOW - 60_000,
  });
  let rev = 1;
  const sorted = [...entries].sort((a, b) => (b.msAgo ?? 0) - (a.msAgo ?? 0));
  for (const e of sorted) {
    const entry = { key: e.key, value: e.value, revision: e.revision ?? rev++, deleted: e.value === undefined };
    s = reduce(s, { type: 'entry', bucket: e.bucket, entry, at: NOW - (e.msAgo ?? 0) });
  }
  return reduce(s, { type: 'tick', at: NOW });
}

export function member(name: string, msAgo = 1000, extra: Partial<MemberRecord> = {}): Recorded {
  const value: MemberRecord = {
    name,
    host: `host-${name}`,
    pid: 4242,
    version: '0.1.0',
    started: iso(3_600_000),
    heartbeat: iso(msAgo),
    ...extra,
  };
  return { bucket: Bucket.members, key: Keys.member(name), value, msAgo };
}

export function leader(name: string, term = 3): Recorded {
  const value: LeaderRecord = { name, term, since: iso(3_000_000) };
  return { bucket: Bucket.leader, key: Keys.leader, value, msAgo: 30_000 };
}

export function bound(sourceId: string, agent: string): Recorded {
  const value: BoundRecord = { sourceId, agent, term: 3, boundAt: iso(3_000_000) };
  return { bucket: Bucket.bounds, key: Keys.bound(sourceId), value, msAgo: 30_000 };
}

export function task(
  name: string,
  sources: string[],
  stage: TaskRecord['stage'] = 'Running',
  extra: Partial<TaskRecord> = {},
): Recorded {
  const value: TaskRecord = {
    name,
    yaml: `name: ${name}\ntarget-database:\n  password: "s3cret-in-yaml"\n`,
    file: `${name}.yaml`,
    stage,
    sources,
    generation: 1,
    updatedAt: iso(600_000),
    ...extra,
  };
  return { bucket: Bucket.tasks, key: Keys.task(name), value, msAgo: 20_000 };
}

export function err(code: string, message: string, extra: Partial<ErrorRecord> = {}): ErrorRecord {
  return {
    code,
    class: 'downstream',
    retryable: false,
    message,
    suggestion: 'Fix the downstream, then dmctl resume-task.',
    time: iso(5000),
    ...extra,
  };
}

export function status(
  taskName: string,
  source: string,
  agent: string,
  over: Partial<SubtaskStatus> = {},
  msAgo = 500,
): Recorded {
  const value: SubtaskStatus = {
    task: taskName,
    source,
    agent,
    stage: 'Running',
    unit: 'sync',
    generation: 1,
    updatedAt: iso(msAgo),
    ...over,
  };
  return { bucket: Bucket.status, key: Keys.subtaskStatus(taskName, source), value, msAgo };
}

export function relay(source: string, agent: string, over: Partial<RelayStatus> = {}, msAgo = 800): Recorded {
  const value: RelayStatus = {
    source,
    agent,
    stage: 'Running',
    master: { name: 'binlog.000003', pos: 98_765 },
    relayPos: { name: 'binlog.000003', pos: 90_000 },
    segment: 1,
    serverUuid: '3e11fa47-71ca-11e1-9e33-c80aa9429562',
    lagSeconds: 1,
    firstSeq: 1,
    lastSeq: 5120,
    neededSeq: 4000,
    neededBy: 'shop',
    readers: 1,
    size: { fileBytes: 64 * 1048576, usedBytes: 12 * 1048576, reusableBytes: 1048576, records: 5120 },
    upstreamPaused: false,
    upstreamPauses: 0,
    eventsPerSecond: 340,
    updatedAt: iso(msAgo),
    ...over,
  };
  return { bucket: Bucket.status, key: Keys.relayStatus(source), value, msAgo };
}

export const syncing = (lag = 0, caughtUp = true): Partial<SubtaskStatus> => ({
  unit: 'sync',
  sync: {
    master: { name: 'binlog.000003', pos: 98_765 },
    synced: { name: 'binlog.000003', pos: caughtUp ? 98_765 : 45_000 },
    lagSeconds: lag,
    rowsPerSecond: 1234,
    totalRows: 5_000_000,
    totalEvents: 120_000,
    caughtUp,
    safeMode: false,
  },
});

export const loading = (doneRows: number, totalRows = 1_000_000): Partial<SubtaskStatus> => ({
  unit: 'load',
  load: {
    totalChunks: 40,
    doneChunks: Math.floor((40 * doneRows) / totalRows),
    totalRows,
    doneRows,
    tables: 12,
    perTable: [
      {
        table: 'shop.orders',
        doneChunks: 10,
        totalChunks: 30,
        doneRows: doneRows - 100_000,
        totalRows: totalRows - 100_000,
      },
      { table: 'shop.customers', doneChunks: 10, totalChunks: 10, doneRows: 100_000, totalRows: 100_000 },
    ],
  },
});

// --- the states -------------------------------------------------------------------------------------------------

export function emptyCluster(): DashboardState {
  return replay([]);
}

/** Two agents (one gone), three tasks in every stage, errors of each kind. */
export function smallCluster(): DashboardState {
  const ddl = err('TSDM-30007', "the downstream rejected DDL: Duplicate column name 'note'", {
    context: {
      sql: 'ALTER TABLE shop.orders ADD COLUMN note TEXT',
      position: 'binlog.000003:4512',
      table: 'shop.orders',
      errno: 1060,
    },
  });
  const warn = err('TSDM-30001', 'downstream connection lost; retrying', { retryable: true, time: iso(20_000) });
  return replay([
    member('agent-1', 1000),
    member('agent-2', 15_000),
    leader('agent-1'),
    bound('mysql-01', 'agent-1'),
    bound('mysql-02', 'agent-1'),
    bound('mysql-03', 'agent-2'),
    task('shop', ['mysql-01', 'mysql-02']),
    task('audit', ['mysql-03']),
    task('crm', ['mysql-01'], 'Paused'),
    // The load's rate comes from two successive reports.
    status('shop', 'mysql-02', 'agent-1', loading(400_000), 3000),
    status('shop', 'mysql-02', 'agent-1', loading(450_000), 1000),
    status('shop', 'mysql-01', 'agent-1', {
      ...syncing(2, false),
      sync: {
        ...syncing(2, false).sync!,
        perTable: [
          { table: 'shop.orders', rows: 41_000, lagSeconds: 2, lastAppliedAt: iso(1500) },
          { table: 'shop.items', rows: 900, lagSeconds: 7, lastAppliedAt: iso(60_000) },
        ],
      },
      recentErrors: [warn],
    }),
    relay('mysql-01', 'agent-1'),
    relay('mysql-03', 'agent-2', {
      stage: 'Paused',
      relayPos: { name: 'binlog.000002', pos: 1200 },
      size: { fileBytes: 8 * 1048576, usedBytes: 3 * 1048576, reusableBytes: 0, records: 800 },
      lagSeconds: 300,
    }),
    status('audit', 'mysql-03', 'agent-2', { ...syncing(0), stage: 'Paused', error: ddl }, 16_000),
    status('crm', 'mysql-01', 'agent-1', { ...syncing(0), stage: 'Paused' }),
  ]);
}

export function hundredTasks(): DashboardState {
  const entries: Recorded[] = [
    member('agent-1', 500),
    member('agent-2', 500),
    leader('agent-1'),
    bound('src-a', 'agent-1'),
    bound('src-b', 'agent-2'),
  ];
  for (let i = 0; i < 100; i++) {
    const name = `task-${String(i).padStart(3, '0')}`;
    const src = i % 2 ? 'src-b' : 'src-a';
    entries.push(task(name, [src], i % 10 === 9 ? 'Paused' : 'Running'));
    entries.push(status(name, src, i % 2 ? 'agent-2' : 'agent-1', i % 3 ? syncing(i % 7) : loading(i * 9000), 400));
  }
  return replay(entries);
}

export const LONG_TASK =
  'migrate-the-whole-legacy-order-management-database-of-the-european-subsidiary-into-the-new-tidb-cluster-2026';
export const LONG_SOURCE = 'mysql-replica-eu-west-1-legacy-orders-primary-0001';
export const LONG_AGENT = 'dm-agent-on-a-host-with-a-very-long-fully-qualified-name.example.internal';

export function longNames(): DashboardState {
  return replay([
    member(LONG_AGENT, 500, { host: 'a-very-long-hostname.eu-west-1.compute.internal.example.com' }),
    leader(LONG_AGENT),
    bound(LONG_SOURCE, LONG_AGENT),
    task(LONG_TASK, [LONG_SOURCE]),
    status(LONG_TASK, LONG_SOURCE, LONG_AGENT, syncing(3, false)),
  ]);
}

export const LONG_MESSAGE = `the downstream rejected the statement after 5 attempts: ${'Lock wait timeout exceeded; try restarting transaction. '.repeat(30)}END-OF-MESSAGE`;

export function longError(): DashboardState {
  const e = err('TSDM-30004', LONG_MESSAGE, {
    context: {
      sql: `INSERT INTO shop.orders VALUES ${"(1, 'x'), ".repeat(60)}(2, 'y')`,
      position: 'binlog.000007:123456',
    },
    cause: 'ER_LOCK_WAIT_TIMEOUT (errno 1205)',
  });
  return replay([
    member('agent-1'),
    leader('agent-1'),
    bound('mysql-01', 'agent-1'),
    task('orders', ['mysql-01']),
    status('orders', 'mysql-01', 'agent-1', { ...syncing(120, false), stage: 'Paused', error: e }),
  ]);
}

export function pendingLock(): DashboardState {
  return replay([
    member('agent-1'),
    member('agent-2'),
    leader('agent-2'),
    bound('shard-1', 'agent-1'),
    bound('shard-2', 'agent-2'),
    task('merge', ['shard-1', 'shard-2']),
    status('merge', 'shard-1', 'agent-1', syncing(0)),
    status('merge', 'shard-2', 'agent-2', { ...syncing(45, false) }),
    {
      bucket: Bucket.locks,
      key: Keys.lock('merge', 'merged', 'orders'),
      msAgo: 90_000,
      value: {
        task: 'merge',
        targetSchema: 'merged',
        targetTable: 'orders',
        mode: 'pessimistic',
        owner: 'shard-1',
        ddls: ['ALTER TABLE `merged`.`orders` ADD COLUMN `note` VARCHAR(255)'],
        shards: {
          'shard-1/shop_0.orders': true,
          'shard-1/shop_1.orders': true,
          'shard-2/shop_2.orders': false,
          'shard-2/shop_3.orders': false,
        },
        createdAt: iso(90_000),
      },
    },
  ]);
}

export const STATES: Record<string, () => DashboardState> = {
  emptyCluster,
  smallCluster,
  hundredTasks,
  longNames,
  longError,
  pendingLock,
};

// --- rendering at a given terminal size ---------------------------------------------------------------------------

/**
 * ink-testing-library's stdout reports 100 columns and no rows. Its class is patched once so that every instance
 * reports the size asked for here, from the first frame on (Ink lays out with stdout.columns, the dashboard also
 * reads stdout.rows).
 */
const size = { columns: 100, rows: 24 };
let patched = false;
function patchStdout(): void {
  if (patched) return;
  const probe = render(React.createElement(React.Fragment));
  const proto = Object.getPrototypeOf(probe.stdout) as object;
  probe.unmount();
  Object.defineProperty(proto, 'columns', { get: () => size.columns, configurable: true });
  Object.defineProperty(proto, 'rows', { get: () => size.rows, configurable: true });
  patched = true;
}

export const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

/** Strips colours and styles: assertions are on the text a user reads. */
export function plain(frame: string | undefined): string {
  return (frame ?? '').replace(/\x1b\[[0-9;]*m/g, '');
}

export interface FakeActions extends DashboardActions {
  calls: PendingAction[];
}

export function fakeActions(result: (a: PendingAction) => Promise<string> = async (a) => `ok ${a.kind}`): FakeActions {
  const calls: PendingAction[] = [];
  return {
    calls,
    can: { skipDdl: true, unlock: false },
    run: (a) => {
      calls.push(a);
      return result(a);
    },
  };
}

export async function renderAt(
  state: DashboardState | ReadModelSource,
  columns: number,
  rows: number,
  opts: { initial?: Partial<UiState>; actions?: DashboardActions } = {},
) {
  patchStdout();
  size.columns = columns;
  size.rows = rows;
  const source = 'getSnapshot' in state ? state : fixedSource(state);
  const r = render(
    React.createElement(App, {
      source,
      actions: opts.actions ?? fakeActions(),
      ...(opts.initial ? { initial: opts.initial } : {}),
    }),
  );
  await tick();
  const keys = {
    up: '\x1b[A',
    down: '\x1b[B',
    left: '\x1b[D',
    pageDown: '\x1b[6~',
    enter: '\r',
    escape: '\x1b',
    tab: '\t',
    backspace: '\x7f',
  } as const;
  return {
    ...r,
    text: () => plain(r.lastFrame()),
    lines: () => plain(r.lastFrame()).split('\n'),
    /** Types keys one at a time (names from `keys`, or literal text) and lets Ink render after each. */
    async press(...ks: (keyof typeof keys | string)[]) {
      for (const k of ks) {
        const before = r.lastFrame();
        r.stdin.write(k in keys ? keys[k as keyof typeof keys] : k);
        await tick();
        // On a busy machine Ink may render later than one tick: wait (bounded) for the key's frame, so the next key
        // never lands before this one was handled. Keys that change nothing cost the bound.
        for (let waited = 0; r.lastFrame() === before && waited < 400; waited += 20) await tick(20);
      }
    },
  };
}
