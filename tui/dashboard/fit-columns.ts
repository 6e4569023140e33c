/**
 * How a table degrades on a narrow terminal: the least important columns disappear until the rest fit with their
 * flexible columns (names, messages) at their minimum; then flexible columns give up width: messages first, then
 * names, the widest first.
 * A wide terminal shows every column at its natural width.
 */

export interface ColumnSpec {
  /** Heading text; also the column's identity (unique within a table). */
  header: string;
  /** Narrowest useful width of a flexible column's content (the heading is cut to fit it). */
  min: number;
  /** Widest the column ever gets (long names and messages are cut to this). */
  max?: number;
  /**
   * Marks a message-like column (an error, a DDL): it gives up width before names do, and optional columns are
   * dropped before it is cut below this width. Without it, any cut of the column makes optional columns go.
   */
  ideal?: number;
  /** Higher is more important: when columns must go, the lowest priority goes first. */
  priority: number;
  /** Flexible columns give up width first when the table is too wide. */
  flex?: boolean;
  align?: 'left' | 'right';
}

/** Columns below this priority are nice to have: dropped before any other column is cut. */
export const OPTIONAL = 50;

/** Columns cost their content plus padding on each side plus one border; the table adds one border. */
export const CELL_PADDING = 1;
const overhead = (n: number) => 1 + n * (2 * CELL_PADDING + 1);

export interface Fitted {
  visible: number[];
  widths: number[];
}

/**
 * `natural[i]` is the widest content of column i (heading included). Returns the indexes of the columns to show, in
 * their original order, and their content widths; the table's total width is at most `total`.
 */
export function fitColumns(specs: ColumnSpec[], natural: number[], total: number): Fitted {
  const want = specs.map((s, i) => Math.max(1, Math.min(natural[i] ?? 0, s.max ?? Infinity)));
  // Short fixed-format columns (stage, lag, progress) are never cut: a cut number misleads. Names and messages are.
  const floor = specs.map((s, i) => (s.flex ? Math.min(s.min, want[i]!) : want[i]!));
  let visible = specs.map((_, i) => i);
  const room = () => total - overhead(visible.length);
  while (visible.length > 1 && visible.reduce((a, i) => a + floor[i]!, 0) > room()) {
    let drop = visible[0]!;
    for (const i of visible) if (specs[i]!.priority < specs[drop]!.priority) drop = i;
    visible = visible.filter((i) => i !== drop);
  }
  // Optional columns (priority below OPTIONAL) only stay while no name or message has to be cut (below its ideal).
  const cut = () => visible.reduce((a, i) => a + Math.min(want[i]!, specs[i]!.ideal ?? Infinity), 0) > room();
  while (cut()) {
    const optional = visible.filter((i) => specs[i]!.priority < OPTIONAL);
    if (optional.length === 0) break;
    const drop = optional.reduce((a, i) => (specs[i]!.priority < specs[a]!.priority ? i : a));
    visible = visible.filter((i) => i !== drop);
  }
  const widths = visible.map((i) => want[i]!);
  let excess = widths.reduce((a, b) => a + b, 0) - room();
  // Shrink: message-like columns (those with an ideal) first, down to their ideal and then to their minimum; then the
  // other flexible columns (names) together, the widest first, so that two long names are both partly visible.
  const shrinkTo = (k: number, to: number) => {
    const d = Math.min(excess, widths[k]! - to);
    if (d > 0) {
      widths[k] = widths[k]! - d;
      excess -= d;
    }
  };
  const messages = [...visible.keys()].filter(
    (k) => specs[visible[k]!]!.flex && specs[visible[k]!]!.ideal !== undefined,
  );
  for (const k of messages) shrinkTo(k, Math.max(specs[visible[k]!]!.ideal!, floor[visible[k]!]!));
  for (const k of messages) shrinkTo(k, floor[visible[k]!]!);
  while (excess > 0) {
    let best = -1;
    for (let k = 0; k < visible.length; k++) {
      if (!specs[visible[k]!]!.flex || widths[k]! <= floor[visible[k]!]!) continue;
      if (best < 0 || widths[k]! > widths[best]!) best = k;
    }
    if (best < 0) break;
    shrinkTo(best, widths[best]! - 1);
  }
  // Still too wide (a terminal narrower than the minimums): cut the last column, never below one column.
  if (excess > 0 && widths.length > 0) widths[widths.length - 1] = Math.max(1, widths[widths.length - 1]! - excess);
  return { visible, widths };
}
