import { DmError } from '../errors/index.ts';
import { compileRe2 } from './re2.ts';

/**
 * DM name patterns, as used by block-allow-list, routes and binlog event filters.
 *
 * - `~regex`: a Go regular expression (see re2.ts), matched **unanchored** like DM's `MatchString`
 *   (`~^shard_` is what anchors it). DM's block-allow-list and (regexpr-)router accept `~`; DM's binlog
 *   event filter only knows wildcards, tsdm accepts `~` there too for consistency.
 * - anything else: a wildcard, with the exact rules of DM's trie selector (tidb `pkg/util/table-rule-selector`):
 *   `*` matches any sequence (also empty) and must be the **last** character (`ab*c` and `a**` are errors);
 *   `?` matches exactly one character; `[abc]`, `[a-z]`, `[!a-c]` match one character in / not in the set,
 *   the set ends at the first `]` (so `[]` matches nothing and `[!]` matches `!`); a `[` without a closing `]`
 *   is a literal `[`; every other character (including `\`) is literal.
 * - case-insensitive mode (task `case-sensitive: false`, DM's default): DM lower-cases wildcard patterns and
 *   names, and prefixes regexes with `(?i)`. We do the same, except that we do not lower-case the regex text
 *   itself (DM does, which silently turns `\D` into `\d`); the `i` flag gives the intended result.
 *
 * Deliberate difference: DM's selector works on bytes, we work on Unicode code points, so `?` matches one
 * character `é` (DM would need `??` for its two UTF-8 bytes).
 */

export type NameMatcher = (name: string) => boolean;

export function isRegexPattern(pattern: string): boolean {
  return pattern.startsWith('~');
}

/** Compiles a DM pattern. Throws DmError('ConfigBadPattern') for an empty or invalid pattern. */
export function compilePattern(pattern: string, caseSensitive: boolean): NameMatcher {
  if (pattern === '' || pattern === '~') throw new DmError('ConfigBadPattern', `empty pattern \`${pattern}\``);
  if (isRegexPattern(pattern)) {
    const re = compileRe2(pattern.slice(1), !caseSensitive);
    return (name) => re.test(name);
  }
  const tokens = parseWildcard(caseSensitive ? pattern : pattern.toLowerCase(), pattern);
  return caseSensitive ? (name) => matchWildcard(tokens, name) : (name) => matchWildcard(tokens, name.toLowerCase());
}

type CharSet = { negate: boolean; ranges: [string, string][] };
type WildToken = { kind: 'char'; ch: string } | { kind: 'any' } | { kind: 'set'; set: CharSet } | { kind: 'star' };

function parseWildcard(p: string, original: string): WildToken[] {
  const cps = [...p];
  const out: WildToken[] = [];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (out.at(-1)?.kind === 'star') {
      throw new DmError('ConfigBadPattern', `invalid wildcard \`${original}\`: \`*\` must be the last character`);
    }
    if (c === '*') out.push({ kind: 'star' });
    else if (c === '?') out.push({ kind: 'any' });
    else if (c === '[' && cps.indexOf(']', i + 1) > i) {
      const close = cps.indexOf(']', i + 1);
      out.push({ kind: 'set', set: parseSet(cps.slice(i + 1, close)) });
      i = close;
    } else out.push({ kind: 'char', ch: c });
  }
  return out;
}

/** The inside of `[...]`, as DM's `getRangeItem`: `!` negates, `x-y` is a range unless `-` is last. */
function parseSet(body: string[]): CharSet {
  let negate = false;
  let i = 0;
  if (body[0] === '!') {
    negate = true;
    i = 1;
  }
  const ranges: [string, string][] = [];
  for (; i < body.length; i++) {
    if (body[i + 1] === '-' && i + 2 < body.length) {
      ranges.push([body[i]!, body[i + 2]!]);
      i += 2;
    } else ranges.push([body[i]!, body[i]!]);
  }
  // DM turns `[!]` into "the character !".
  if (negate && ranges.length === 0) return { negate: false, ranges: [['!', '!']] };
  return { negate, ranges };
}

function inSet(set: CharSet, c: string): boolean {
  const cp = c.codePointAt(0)!;
  const hit = set.ranges.some(([lo, hi]) => lo.codePointAt(0)! <= cp && cp <= hi.codePointAt(0)!);
  return hit !== set.negate;
}

/** `*` can only be last, so matching is a single left-to-right pass: no backtracking needed. */
function matchWildcard(tokens: WildToken[], name: string): boolean {
  const cps = [...name];
  let i = 0;
  for (const t of tokens) {
    if (t.kind === 'star') return true;
    const c = cps[i];
    if (c === undefined) return false;
    if (t.kind === 'char' ? c !== t.ch : t.kind === 'set' ? !inSet(t.set, c) : false) return false;
    i++;
  }
  return i === cps.length;
}
