import { formatRecord } from '../errors/index.ts';
import { percentText } from './status-derive.ts';
import type { CheckSummary } from './status-view.ts';

/** The task's last check-data: running with progress and ETA, or its outcome. */
export function checkLine(c: CheckSummary): string {
  const p = c.progress;
  if (c.state === 'pending') return `check-data ${c.id}: pending (requested ${c.requestedAt})`;
  if (c.state === 'running') {
    const eta = p?.etaSeconds !== undefined ? `  ETA ${p.etaSeconds}s` : '';
    return `check-data ${c.id}: running on ${c.owner ?? '?'}  tables ${p?.tablesDone ?? 0}/${p?.tablesTotal ?? '?'}  rows ${p?.rowsDone ?? 0}/${p?.rowsTotal ?? '?'} (${percentText(p?.rowsDone ?? 0, p?.rowsTotal ?? 0)})  ${p?.rowsPerSecond ?? 0} rows/s${eta}${c.resumed ? `  resumed ${c.resumed}x` : ''}${p?.throttled ? `  [throttled: ${p.throttled}]` : ''}`;
  }
  if (c.state === 'failed')
    return `check-data ${c.id}: failed at ${c.finishedAt ?? '?'}: ${c.error ? formatRecord(c.error).split('\n')[0] : '?'}`;
  return `check-data ${c.id}: ${c.differences ? `${c.differences} differing row(s)` : 'equal'} (finished ${c.finishedAt ?? '?'}, ${p?.rowsDone ?? 0} rows, ${p?.tablesTotal ?? 0} tables)`;
}
