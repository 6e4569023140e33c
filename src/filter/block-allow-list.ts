import type { BlockAllowRule } from '../config/types.ts';
import { DmError } from '../errors/index.ts';
import { compilePattern, type NameMatcher } from './pattern.ts';

/**
 * DM's block-allow list (formerly black-white-list): MySQL replicate-do/ignore-db/table rules, evaluated
 * exactly in the order of tidb `pkg/util/filter` `Filter.Match` (= tidb-tools `pkg/filter`):
 *
 *   1. schemas: if do-dbs is not empty, the schema must match one of them and ignore-dbs is NOT consulted;
 *      otherwise, a schema matching ignore-dbs is blocked.
 *   2. tables (skipped for schema-level names, table ''): a table matching do-tables is allowed (even if it
 *      also matches ignore-tables); else a table matching ignore-tables is blocked; else it is allowed only
 *      when do-tables is empty.
 *
 * So with do-tables only, `allowSchema('other')` is true (CREATE DATABASE other is replicated even though no
 * table of it is): DM does the same (`filterOnTables` returns true for an empty table name).
 *
 * System schemas are always blocked, before any rule, like DM's syncer `skipByTable` with
 * `filter.IsSystemSchema` (case-insensitive): mysql, sys, information_schema, performance_schema,
 * metrics_schema, inspection_schema, dm_heartbeat. DM does not block its own meta schema upstream; tsdm
 * blocks it too when given (`opts.metaSchema`), so that a tsdm downstream used as an upstream does not feed
 * its checkpoints into the next hop.
 *
 * Each do/ignore-tables entry matches when both its db-name and tbl-name patterns match the table. (DM's
 * implementation shares one trie across entries, so a `~regex` db-name of one entry can combine with the
 * tbl-name of another; we do not reproduce that accident.)
 */

export const SYSTEM_SCHEMAS: readonly string[] = [
  'mysql',
  'sys',
  'information_schema',
  'performance_schema',
  'metrics_schema',
  'inspection_schema',
  'dm_heartbeat',
];

interface TableMatcher {
  db: NameMatcher;
  tbl: NameMatcher;
}

export interface BlockAllowListOptions {
  /** Also block this schema (the task's meta-schema), compared case-insensitively like system schemas. */
  metaSchema?: string;
}

/** allowTable() with its reason: the rule that blocked the table, or the do-tables entry that let it through. */
export interface BlockAllowDecision {
  allowed: boolean;
  reason?: string;
}

export class BlockAllowList {
  private readonly doDbs: NameMatcher[];
  private readonly ignoreDbs: NameMatcher[];
  private readonly doTables: TableMatcher[];
  private readonly ignoreTables: TableMatcher[];
  private readonly blocked: Set<string>;
  /** `schema\0table` -> allowed; names are few and repeat on every row event. */
  private readonly cache = new Map<string, boolean>();

  constructor(
    private readonly rule: BlockAllowRule | undefined,
    caseSensitive: boolean,
    opts: BlockAllowListOptions = {},
  ) {
    this.blocked = new Set(SYSTEM_SCHEMAS);
    if (opts.metaSchema) this.blocked.add(opts.metaSchema.toLowerCase());
    const db = (p: string, key: string): NameMatcher => {
      if (p === '') throw new DmError('ConfigBadPattern', `block-allow-list ${key}: a schema pattern cannot be empty`);
      return compilePattern(p, caseSensitive);
    };
    const tbl = (t: { dbName: string; tblName: string }, key: string): TableMatcher => {
      if (t.dbName === '' || t.tblName === '') {
        throw new DmError('ConfigBadPattern', `block-allow-list ${key}: db-name and tbl-name cannot be empty`);
      }
      return { db: compilePattern(t.dbName, caseSensitive), tbl: compilePattern(t.tblName, caseSensitive) };
    };
    this.doDbs = (rule?.doDbs ?? []).map((p) => db(p, 'do-dbs'));
    this.ignoreDbs = (rule?.ignoreDbs ?? []).map((p) => db(p, 'ignore-dbs'));
    this.doTables = (rule?.doTables ?? []).map((t) => tbl(t, 'do-tables'));
    this.ignoreTables = (rule?.ignoreTables ?? []).map((t) => tbl(t, 'ignore-tables'));
  }

  static isSystemSchema(schema: string): boolean {
    return SYSTEM_SCHEMAS.includes(schema.toLowerCase());
  }

  /** Schema-level decision, for CREATE/DROP/ALTER DATABASE. */
  allowSchema(schema: string): boolean {
    return this.allowTable(schema, '');
  }

  allowTable(schema: string, table: string): boolean {
    const key = `${schema}\0${table}`;
    let ok = this.cache.get(key);
    if (ok === undefined) {
      ok = this.decide(schema, table).allowed;
      if (this.cache.size >= 100_000) this.cache.clear();
      this.cache.set(key, ok);
    }
    return ok;
  }

  /**
   * allowTable() with the reason, in the words of the rule that decided (for `dmctl plan`): allowTable is this
   * decision's `allowed`, so what plan says cannot differ from what the task does.
   */
  decide(schema: string, table: string): BlockAllowDecision {
    const s = schema.toLowerCase();
    if (SYSTEM_SCHEMAS.includes(s)) return { allowed: false, reason: 'system schema (always blocked)' };
    if (this.blocked.has(s)) return { allowed: false, reason: "the task's meta-schema (always blocked)" };
    if (this.doDbs.length > 0) {
      const i = this.doDbs.findIndex((m) => m(schema));
      if (i < 0) return { allowed: false, reason: `schema matches no do-dbs pattern (${this.rule!.doDbs.join(', ')})` };
    } else {
      const i = this.ignoreDbs.findIndex((m) => m(schema));
      if (i >= 0) return { allowed: false, reason: `schema matches ignore-dbs pattern ${this.rule!.ignoreDbs[i]}` };
    }
    if (table === '') return { allowed: true };
    const hit = (t: TableMatcher): boolean => t.db(schema) && t.tbl(table);
    const entry = (t: { dbName: string; tblName: string }) => `{db-name: ${t.dbName}, tbl-name: ${t.tblName}}`;
    const d = this.doTables.findIndex(hit);
    if (d >= 0) return { allowed: true, reason: `do-tables ${entry(this.rule!.doTables[d]!)}` };
    const ig = this.ignoreTables.findIndex(hit);
    if (ig >= 0) return { allowed: false, reason: `matches ignore-tables ${entry(this.rule!.ignoreTables[ig]!)}` };
    if (this.doTables.length > 0) return { allowed: false, reason: 'matches no do-tables entry' };
    return { allowed: true };
  }
}
