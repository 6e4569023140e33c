import type { Connection } from 'mysql2/promise';
import type { TaskMode } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { connect, query } from '../db/mysql.ts';
import { taskZone } from '../db/timezone.ts';
import { checkExtendedColumns } from './check-extend.ts';
import type { SubtaskContext, Unit } from '../unit.ts';

/**
 * Precheck (DM's check unit): the upstream can be dumped and, unless task-mode is full, replicated from.
 * A failure throws a coded error and the subtask does not start; nothing is written downstream.
 */
export class CheckUnit implements Unit {
  readonly name = 'check' as const;
  constructor(private readonly ctx: SubtaskContext) {}

  async run(): Promise<void> {
    taskZone(this.ctx.task);
    const up = await connect(this.ctx.source.from, 'upstream');
    try {
      await checkUpstream(up, this.ctx.task.taskMode);
      const down = await connect(this.ctx.task.targetDatabase, 'downstream');
      try {
        await checkExtendedColumns(up, down, this.ctx.rules);
      } finally {
        down.destroy();
      }
    } finally {
      up.destroy();
    }
  }
}

export async function checkUpstream(up: Connection, mode: TaskMode): Promise<void> {
  const needBinlog = mode !== 'full';
  const [v] = await query<Record<string, string | number>[]>(
    up,
    'upstream',
    'SELECT @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@binlog_row_image AS row_image, @@server_id AS server_id, VERSION() AS version',
  );
  if (!v) throw new DmError('Internal', 'upstream returned no variables');
  if (needBinlog) {
    if (Number(v.log_bin) !== 1) throw new DmError('UpstreamBinlogDisabled', `upstream ${v.version} has log_bin=OFF`);
    if (String(v.binlog_format).toUpperCase() !== 'ROW')
      throw new DmError('UpstreamBinlogFormat', `upstream binlog_format is ${v.binlog_format}, tsdm needs ROW`);
    if (String(v.row_image).toUpperCase() !== 'FULL')
      throw new DmError('UpstreamBinlogRowImage', `upstream binlog_row_image is ${v.row_image}, tsdm needs FULL`);
    if (Number(v.server_id) === 0) throw new DmError('UpstreamServerId', 'upstream server_id is 0');
  }
  const grants = (await query<Record<string, string>[]>(up, 'upstream', 'SHOW GRANTS FOR CURRENT_USER()'))
    .map((r) => Object.values(r)[0] ?? '')
    .join('\n')
    .toUpperCase();
  if (/GRANT ALL PRIVILEGES ON \*\.\*/.test(grants)) return;
  // The dump takes its snapshot with FLUSH TABLES WITH READ LOCK (RELOAD), never LOCK TABLES; sync needs the
  // replication privileges. DM asks the same of each mode.
  const need = [
    ...(mode !== 'incremental' ? ['SELECT', 'RELOAD'] : []),
    ...(needBinlog ? ['REPLICATION SLAVE', 'REPLICATION CLIENT'] : []),
  ];
  // MariaDB 10.5+ renamed REPLICATION CLIENT to BINLOG MONITOR and REPLICATION SLAVE to REPLICATION REPLICA/SLAVE.
  const aliases: Record<string, string[]> = {
    'REPLICATION CLIENT': ['REPLICATION CLIENT', 'BINLOG MONITOR'],
    'REPLICATION SLAVE': ['REPLICATION SLAVE', 'REPLICATION REPLICA'],
  };
  const missing = need.filter((p) => !(aliases[p] ?? [p]).some((a) => grants.includes(a)));
  if (missing.length) throw new DmError('UpstreamPrivileges', `upstream user lacks ${missing.join(', ')} ON *.*`);
}
