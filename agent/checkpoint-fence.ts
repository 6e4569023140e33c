import type { Connection } from 'mysql2/promise';
import { DmError } from '../src/errors/index.ts';
import { escapeValue, query } from './db/mysql.ts';
import { metaTable } from './checkpoint-tables.ts';

/**
 * Fencing of a source's checkpoints (docs/architecture.md, protocol steps 5-7): `<task>_source_owner (source)` holds
 * the term and agent of the binding that owns the source. A subtask claims it (`claim`, SELECT … FOR UPDATE, the
 * row's term only grows) before it reads any checkpoint, and every transaction that moves a checkpoint re-reads it
 * with a locking read (`check`) just before COMMIT: a stale owner's transaction then rolls back. Because the claim
 * takes an exclusive lock and the check a shared one, a claim waits for in-flight writer transactions of the old
 * owner to end, and the new owner reads checkpoints only after that: two agents never apply one source at once.
 */

/** The binding a subtask runs under: agent name and its dm_bounds term. */
export interface Owner {
  agent: string;
  term: number;
}

/** Test hook: with TSDM_FAULT_WRITE_AUDIT=1 every fenced commit also appends (agent, term, what) to `<task>_write_audit`. */
export const WRITE_AUDIT = process.env.TSDM_FAULT_WRITE_AUDIT === '1';

/** The owner row of one (task, source) and the owner's registered connections; without an owner nothing is fenced. */
export class SourceFence {
  private readonly ownerT: string;
  private readonly connT: string;
  private readonly auditT: string;

  constructor(
    metaSchema: string,
    private readonly task: string,
    private readonly source: string,
    private readonly owner?: Owner,
  ) {
    this.ownerT = metaTable(metaSchema, task, 'source_owner');
    this.auditT = metaTable(metaSchema, task, 'write_audit');
    this.connT = metaTable(metaSchema, task, 'owner_conn');
  }

  /**
   * Takes ownership of the source for this subtask's binding term (docs/architecture.md, protocol step 5):
   * make sure the row exists; (a) end a stale owner's connections; (b) lock the row (waits for in-flight commits of
   * a previous owner, which hold a shared lock until they end), a higher stored term means our binding is stale
   * (Fenced), else write our term and agent and commit. A crash between the steps leaves either the previous owner
   * (the claim did not happen; killed connections only rolled back uncommitted work) or ours.
   */
  async claim(conn: Connection): Promise<void> {
    if (!this.owner) return;
    await query(conn, 'downstream', `INSERT IGNORE INTO ${this.ownerT} (source, term, agent) VALUES (?, 0, '')`, [
      this.source,
    ]);
    // (a) Before locking anything: a previous owner that hangs (stopped process, lost network) may sit in an open
    // transaction holding the owner row (shared, between its fence check and COMMIT) or checkpoint rows, which
    // would block us until the server's wait_timeout. If our term is the newer one, that owner is stale: end its
    // registered connections. Thread ids are not reused while a connection lives; a gone id fails harmlessly.
    const [cur] = await query<Record<string, string | number>[]>(
      conn,
      'downstream',
      `SELECT term, agent FROM ${this.ownerT} WHERE source = ?`,
      [this.source],
    );
    if (Number(cur?.term ?? 0) > this.owner.term) throw this.fenced(Number(cur?.term), String(cur?.agent ?? ''));
    const others = await query<Record<string, string | number>[]>(
      conn,
      'downstream',
      `SELECT conn_id FROM ${this.connT} WHERE source = ? AND NOT (agent = ? AND term = ?)`,
      [this.source, this.owner.agent, this.owner.term],
    );
    for (const o of others) await conn.query(`KILL CONNECTION ${Number(o.conn_id)}`).catch(() => undefined);
    // (b) Lock, re-check (a newer owner may have claimed meanwhile), take over, commit.
    await query(conn, 'downstream', 'BEGIN');
    try {
      const [r] = await query<Record<string, string | number>[]>(
        conn,
        'downstream',
        `SELECT term, agent FROM ${this.ownerT} WHERE source = ? FOR UPDATE`,
        [this.source],
      );
      const term = Number(r?.term ?? 0);
      if (term > this.owner.term) throw this.fenced(term, String(r?.agent ?? ''));
      // The ended connections are forgotten row by row, by key (no range lock: checkpoint-tables.ts).
      for (const o of others)
        await query(conn, 'downstream', `DELETE FROM ${this.connT} WHERE source = ? AND conn_id = ?`, [
          this.source,
          o.conn_id,
        ]);
      await query(conn, 'downstream', `UPDATE ${this.ownerT} SET term = ?, agent = ? WHERE source = ?`, [
        this.owner.term,
        this.owner.agent,
        this.source,
      ]);
      await query(conn, 'downstream', 'COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await this.register(conn);
  }

  /** Records a downstream connection of this owner, so that the next owner can end it (see claim). Autocommit. */
  async register(conn: Connection): Promise<void> {
    if (!this.owner) return;
    await query(
      conn,
      'downstream',
      `INSERT INTO ${this.connT} (source, conn_id, agent, term) VALUES (?, CONNECTION_ID(), ?, ?)
      ON DUPLICATE KEY UPDATE agent = VALUES(agent), term = VALUES(term)`,
      [this.source, this.owner.agent, this.owner.term],
    );
  }

  /**
   * Inside a transaction, right before COMMIT: re-reads the owner row with a shared lock and throws Fenced when
   * another binding claimed the source (the caller rolls back). Outside a transaction it is a plain check.
   */
  async check(conn: Connection, what: string): Promise<void> {
    const sql = this.checkStatement();
    if (!sql) return;
    await this.checked(conn, await query<Record<string, string | number>[]>(conn, 'downstream', sql), what);
  }

  /**
   * `check` in two halves, for a caller that sends the locking read together with its transaction's other statements
   * in one round trip (sync writers): the statement (undefined: no fencing), then `checked` with its rows, before COMMIT.
   */
  checkStatement(): string | undefined {
    if (!this.owner) return undefined;
    return `SELECT term, agent FROM ${this.ownerT} WHERE source = ${escapeValue(this.source)} LOCK IN SHARE MODE`;
  }

  async checked(conn: Connection, rows: Record<string, unknown>[], what: string): Promise<void> {
    if (!this.owner) return;
    const r = rows[0];
    const term = Number(r?.term ?? 0);
    const agent = String(r?.agent ?? '');
    if (term !== this.owner.term || agent !== this.owner.agent) throw this.fenced(term, agent);
    if (WRITE_AUDIT)
      await query(conn, 'downstream', `INSERT INTO ${this.auditT} (source, agent, term, what) VALUES (?,?,?,?)`, [
        this.source,
        this.owner.agent,
        this.owner.term,
        what.slice(0, 300),
      ]);
  }

  private fenced(term: number, agent: string): DmError {
    return new DmError(
      'Fenced',
      `${this.task}/${this.source}: the source is owned by ${agent || '?'} with term ${term}; this agent (${this.owner?.agent}) holds term ${this.owner?.term}`,
      { context: { task: this.task, source: this.source } },
    );
  }
}
