import type { OnlineDdlConfig } from '../config/types.ts';
import { compileRe2 } from './re2.ts';

export type OnlineTableType = 'real' | 'ghost' | 'trash';

/**
 * DM's online-DDL table classes (dm/syncer/online-ddl-tools, RealOnlinePlugin.TableType/RealName): a table whose
 * name matches a shadow rule is the tool's ghost table (gh-ost `_t_gho`, pt-osc `_t_new`), one matching a trash
 * rule is its changelog or old copy (`_t_ghc`, `_t_del`, `_t_old`); the first capture group is the real table.
 * Shadow rules are tried first, as in DM.
 */
export class OnlineDdlTables {
  private readonly shadow: RegExp[];
  private readonly trash: RegExp[];

  constructor(cfg: OnlineDdlConfig) {
    this.shadow = cfg.shadowTableRules.map((r) => compileRe2(r));
    this.trash = cfg.trashTableRules.map((r) => compileRe2(r));
  }

  type(table: string): OnlineTableType {
    if (this.shadow.some((r) => r.test(table))) return 'ghost';
    if (this.trash.some((r) => r.test(table))) return 'trash';
    return 'real';
  }

  realName(table: string): string {
    for (const r of [...this.shadow, ...this.trash]) {
      const m = r.exec(table);
      if (m && m.length > 1 && m[1] !== undefined) return m[1];
    }
    return table;
  }
}
