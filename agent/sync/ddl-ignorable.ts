import { alterClauses } from '../../src/sql/ddl.ts';

/**
 * Downstream errors a DDL may end with that DM ignores whenever it runs a DDL (tiflow pkg/errorutil
 * IsIgnorableMySQLDDLError): the database or table exists already or is gone, the column or index exists already
 * or is gone, the partition exists already or is gone, the table has a primary key already. The downstream already
 * looks the way the statement wants it (a table created by hand, two tables merged into one target without shard
 * mode both adding the column), so the task goes on instead of pausing.
 */
const IGNORABLE = new Set([1007, 1008, 1050, 1051, 1054, 1060, 1061, 1068, 1091, 1176, 1507, 1517]);

export function isIgnorableDdlErrno(errno: number | undefined): boolean {
  return errno !== undefined && IGNORABLE.has(errno);
}

/** Why an error was ignored, for the log: the statement (or clause) and the server's errno. */
export interface IgnoredDdl {
  sql: string;
  errno: number;
}

/**
 * Runs one DDL with `exec`, ignoring DM's ignorable errors. MariaDB applies a multi-clause ALTER atomically, so one
 * clause that hits such an error (a column that exists already) stops the others too; DM runs each clause as a
 * statement of its own, so there the other clauses still apply. Here the statement is run again clause by clause,
 * each clause's ignorable error ignored. A clause failing otherwise throws its error; resuming replays the whole
 * statement, whose clauses that ran meanwhile then fail as ignorable, so the replay converges.
 */
export async function execIgnoringApplied(
  sql: string,
  exec: (sql: string) => Promise<unknown>,
  ignored: (i: IgnoredDdl) => void,
): Promise<void> {
  try {
    await exec(sql);
    return;
  } catch (err) {
    const errno = (err as { errno?: number }).errno;
    if (!isIgnorableDdlErrno(errno)) throw err;
    const split = alterClauses(sql);
    if (!split || split.clauses.length < 2) {
      ignored({ sql, errno: errno! });
      return;
    }
    for (const clause of split.clauses) {
      const one = split.prefix + clause;
      try {
        await exec(one);
      } catch (e) {
        const n = (e as { errno?: number }).errno;
        if (!isIgnorableDdlErrno(n)) throw e;
        ignored({ sql: one, errno: n! });
      }
    }
  }
}
