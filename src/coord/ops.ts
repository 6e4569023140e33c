import type { ErrorRecord } from '../errors/index.ts';

/** Request/reply operations (DESIGN.md §3: one-off operations go over `dm.op.>` with a timeout). */
export const Op = {
  checkSource: 'check-source',
  checkTask: 'check-task',
  /** Served by the agent the source is bound to (Subjects.agentOp). */
  purgeRelay: 'purge-relay',
  /** Leader ops (sent to `<cluster>.op.agent.<leader>.<op>`; a follower answers NoLeader). */
  transferSource: 'transfer-source',
  offlineMember: 'offline-member',
  /** Per-agent ops (sent to the agent named). */
  evictLeader: 'evict-leader',
  cancelEvict: 'cancel-evict',
} as const;

export interface PurgeRelayRequest {
  source: string;
  filename?: string;
}
export interface PurgeRelayResult {
  source: string;
  purged: number;
  firstSeq: number;
  lastSeq: number;
  size: { fileBytes: number; usedBytes: number; reusableBytes: number; records: number };
}

export interface TransferSourceRequest {
  source: string;
  agent: string;
}
export interface OfflineMemberRequest {
  name: string;
}
export interface OfflineMemberResult {
  name: string;
  rebound: string[];
}
export interface EvictResult {
  name: string;
  evicted: boolean;
  wasLeader: boolean;
}

export interface CheckSourceRequest {
  yaml: string;
  file: string;
}
export interface CheckTaskRequest {
  yaml: string;
  file: string;
  sources: Record<string, { yaml: string; file: string }>;
}
/** `warning`: the check passed, with something the user should know (printed as WARN, never blocks). */
export interface CheckItem {
  name: string;
  source?: string;
  ok: boolean;
  error?: ErrorRecord;
  warning?: string;
}
export interface CheckResult {
  ok: boolean;
  items: CheckItem[];
}

/** The envelope every op reply has (see Coord.subscribe). */
export interface OpReply<T> {
  ok: boolean;
  result?: T;
  error?: ErrorRecord;
}
