/**
 * Text helpers for the dashboard: every cell and line is cut to a known width here, so the layout never depends on
 * the terminal wrapping for us (80×24 over SSH is the floor).
 *
 * Widths are counted in code points. Box-drawing characters and the ellipsis are one column wide; East Asian wide
 * characters and emoji in names would count as one and misalign a row slightly (ink-table counts the same way).
 */

export const ELLIPSIS = '…';

export function width(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Cuts `s` to at most `w` columns, ending with an ellipsis when something was cut. */
export function truncate(s: string, w: number): string {
  if (w <= 0) return '';
  const cps = Array.from(s);
  if (cps.length <= w) return s;
  if (w === 1) return ELLIPSIS;
  return cps.slice(0, w - 1).join('') + ELLIPSIS;
}

/** Exactly `w` columns: truncated or padded with spaces. */
export function fit(s: string, w: number, align: 'left' | 'right' = 'left'): string {
  const t = truncate(s, w);
  const pad = ' '.repeat(Math.max(0, w - width(t)));
  return align === 'right' ? pad + t : t + pad;
}

/** One line of text: control characters and newlines (from error messages, SQL) become spaces. */
export function oneLine(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

/** Word-wraps to lines of at most `w` columns; words longer than a line are cut into pieces. */
export function wrap(text: string, w: number): string[] {
  if (w <= 0) return [];
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.replace(/\t/g, ' ').split(' ')) {
      let rest = word;
      while (width(rest) > w) {
        if (line) {
          out.push(line);
          line = '';
        }
        const cps = Array.from(rest);
        out.push(cps.slice(0, w).join(''));
        rest = cps.slice(w).join('');
      }
      if (!line) line = rest;
      else if (width(line) + 1 + width(rest) <= w) line += ' ' + rest;
      else {
        out.push(line);
        line = rest;
      }
    }
    out.push(line);
  }
  return out;
}

/** 1234567 -> "1.2M"; small numbers as they are. */
export function count(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a < 10_000) return String(Math.round(n));
  if (a < 1_000_000) return `${(n / 1000).toFixed(a < 100_000 ? 1 : 0)}k`;
  if (a < 1_000_000_000) return `${(n / 1_000_000).toFixed(a < 100_000_000 ? 1 : 0)}M`;
  return `${(n / 1_000_000_000).toFixed(1)}G`;
}

/** 1234567 -> "1,234,567" (details show exact numbers). */
export function exact(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '-' : Math.round(n).toLocaleString('en-US');
}

/** The one percentage helper (src/coord/status-derive.ts), so the dashboard and query-status show the same figure. */

/** Seconds as "45s", "12m03s", "5h02m", "3d04h". */
export function duration(sec: number | undefined): string {
  if (sec === undefined || !Number.isFinite(sec) || sec < 0) return '-';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** Age of a past instant (ms timestamps) as "3s ago". */
export function ago(thenMs: number | undefined, nowMs: number): string {
  if (thenMs === undefined || !Number.isFinite(thenMs)) return '-';
  return `${duration(Math.max(0, (nowMs - thenMs) / 1000))} ago`;
}

export function parseTime(iso: string | undefined): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}
