/**
 * How the server compares and orders column and index names: case-insensitively (schema and table names follow
 * the tracker's `lowerCaseTableNames` instead, see SchemaTracker.fold).
 */

export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** Index-name order: case-insensitive, as information_schema sorts them (utf8mb3_general_ci), then exact. */
export function compareNames(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x !== y) return x < y ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
