// zongji ships JS with loose typings; these are the parts the reader (zongji-reader.ts, row-decode.ts) touches.

/** zongji's column of a table map (lib/binlog_event.js updateColumnInfo). */
export interface ZColumn {
  name: string;
  charset?: string | null;
  type: number;
  metadata?: Record<string, number> | null;
}

/** zongji's per-column structure (our toColumnDefs, plus UNSIGNED from the binlog's optional metadata). */
export interface ZColumnSchema {
  COLUMN_TYPE: string;
  UNSIGNED?: boolean;
}

/** A table map as zongji keeps it for a rows event (`ZEvent.tableMap[tableId]`). */
export interface ZTableMap {
  parentSchema: string;
  tableName: string;
  columns?: ZColumn[];
}

/** A table map once zongji has its columns and structure (what a rows event reads with). */
export interface ZRowsTableMap extends ZTableMap {
  columns: ZColumn[];
  columnSchemas: ZColumnSchema[];
}

/** zongji's parser over a packet (lib/reader.js): a buffer and an offset that moves. */
export interface ZParser {
  _buffer: Buffer;
  _offset: number;
}

export interface ZEvent {
  getEventName(): string;
  nextPosition: number;
  timestamp: number;
  /** The event's length in the binlog, header included. */
  size?: number;
  binlogName?: string;
  position?: number;
  query?: string;
  /** Query event status variables, decoded by zongji as UTF-8 text (binlog/status-vars.ts). */
  statusVars?: string;
  /** Their bytes, and the statement's (agent/binlog/query-text.ts). */
  statusVarsBytes?: Buffer;
  queryBytes?: Buffer;
  schema?: string;
  tableId?: number;
  rows?: unknown[];
  tableMap?: Record<number, ZTableMap>;
  domainId?: number;
  serverId?: number;
  seqNo?: number | string;
  standalone?: boolean;
  gtid?: string;
  schemaName?: string;
  tableName?: string;
  columnNames?: string[];
  columns_present_bitmap?: Buffer;
  columns_present_bitmap2?: Buffer;
  /** Rows event flags: 0x0002 NO_FOREIGN_KEY_CHECKS_F (the writing session had foreign_key_checks=0). */
  flags?: number;
}

export interface ZTableMapEvent {
  tableId: number;
  schemaName: string;
  tableName: string;
  columnCount: number;
}

export interface ZInstance {
  on(ev: 'binlog', fn: (e: ZEvent) => void): void;
  on(ev: 'error', fn: (e: unknown) => void): void;
  on(ev: 'ready' | 'stopped', fn: () => void): void;
  start(o: Record<string, unknown>): void;
  stop(): void;
  connection: { pause(): void; resume(): void } | null;
  tableMap: Record<number, unknown>;
  _fetchTableInfo: (e: ZTableMapEvent, next: () => void) => void;
  _skipSchema: (db: string, table: string) => boolean;
  options: { filename?: string; position?: number };
  emit(ev: string, arg: unknown): void;
}
