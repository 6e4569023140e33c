import type { ErrorRecord } from '../errors/index.ts';

/** Request/reply operations (DESIGN.md §3: one-off operations go over `dm.op.>` with a timeout). */
export const Op = {
  checkSource: 'check-source',
  checkTask: 'check-task',
} as const;

export interface CheckSourceRequest { yaml: string; file: string }
export interface CheckTaskRequest { yaml: string; file: string; sources: Record<string, { yaml: string; file: string }> }
export interface CheckItem { name: string; source?: string; ok: boolean; error?: ErrorRecord }
export interface CheckResult { ok: boolean; items: CheckItem[] }

/** The envelope every op reply has (see Coord.subscribe). */
export interface OpReply<T> { ok: boolean; result?: T; error?: ErrorRecord }
