import { DmError } from '../errors/index.ts';

/**
 * Go RE2 regular expressions (what DM compiles with `regexp.Compile`) translated to JS RegExp.
 *
 * DM users write `~regex` patterns and `sql-pattern`s in Go syntax, and DM matches them unanchored
 * (`MatchString` / `FindStringIndex`): `~test` matches `mytest1`. We keep that: callers use `.test()`.
 * The translation is a small scanner, not a rewrite by regex, so escapes inside classes stay correct.
 *
 * Go syntax                      JS (always compiled with the `u` flag)
 *   \A  \z                       (?<![\s\S])  (?![\s\S])   (start / end of text whatever the m flag)
 *   \Q...\E                      the literal text, escaped
 *   (?P<name>...) (?<name>...)   (?<name>...)
 *   (?i) (?s) (?m) at the start  flags i, s, m
 *   .                            [^\n] (Go's dot excludes only \n; JS's also \r, U+2028/9), [\s\S] with (?s)
 *   \pL \p{Greek} \PN            \p{L} \p{Script=Greek} \P{N}
 *   [[:alpha:]] and friends      ASCII ranges
 *   \x{1F600} \101 (octal)       \u{1F600} \u{41}
 *   \a                           \x07
 *   \_ \! \- (escaped punct.)    the character (u mode rejects needless escapes)
 *   { not starting a repeat      \{   (Go treats it as a literal)
 *
 * Rejected with ConfigBadPattern, like Go rejects them (so a config DM refuses is refused here too):
 * look-around `(?=` `(?!` `(?<=` `(?<!`, back-references, `\C`, unknown letter escapes.
 * Rejected because JS (Node 20) cannot express them: inline flags other than at the very start
 * (`a(?i)b`, `(?i:...)`), the `U` (ungreedy) flag and negated POSIX classes `[[:^alpha:]]`.
 * Known small differences: `\s`, `\w`, `\b` use JS definitions (`\s` also matches Unicode spaces).
 */

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`\\{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

/** Unicode general categories RE2 knows by their short name; any other \p{Name} is a script. */
const CATEGORIES = new Set([
  'C',
  'Cc',
  'Cf',
  'Co',
  'Cs',
  'L',
  'Ll',
  'Lm',
  'Lo',
  'Lt',
  'Lu',
  'M',
  'Mc',
  'Me',
  'Mn',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Pe',
  'Pf',
  'Pi',
  'Po',
  'Ps',
  'S',
  'Sc',
  'Sk',
  'Sm',
  'So',
  'Z',
  'Zl',
  'Zp',
  'Zs',
  'Any',
]);

/** Characters that must stay escaped in a JS `u` regex; `-` may (and need) only be escaped inside a class. */
const JS_SYNTAX = new Set([...'^$\\.*+?()[]{}|/']);

export interface TranslatedRegex {
  source: string;
  flags: string;
}

export function translateRe2(pattern: string, caseInsensitive = false): TranslatedRegex {
  return new Re2Translator(pattern).run(caseInsensitive);
}

/** Compiles a Go regular expression; a pattern Go or JS rejects is a ConfigBadPattern error. */
export function compileRe2(pattern: string, caseInsensitive = false): RegExp {
  const { source, flags } = translateRe2(pattern, caseInsensitive);
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw bad(pattern, err instanceof Error ? err.message : String(err));
  }
}

function bad(pattern: string, why: string): DmError {
  return new DmError('ConfigBadPattern', `invalid regular expression \`${pattern}\`: ${why}`);
}

class Re2Translator {
  private readonly cps: string[];
  private i = 0;
  private out = '';
  private dotAll = false;

  constructor(private readonly pattern: string) {
    this.cps = [...pattern];
  }

  run(caseInsensitive: boolean): TranslatedRegex {
    const flags = new Set(['u']);
    if (caseInsensitive) flags.add('i');
    // Only a flag group at the very start maps onto JS flags (it then covers the whole pattern).
    const m = /^\(\?([imsU]+)\)/.exec(this.pattern);
    if (m) {
      for (const f of m[1]!) {
        if (f === 'U') throw bad(this.pattern, 'the ungreedy flag (?U) is not supported');
        flags.add(f);
      }
      this.i = [...m[0]].length;
    }
    this.dotAll = flags.has('s');
    while (this.i < this.cps.length) this.step();
    return { source: this.out, flags: [...flags].sort().join('') };
  }

  private peek(off = 0): string | undefined {
    return this.cps[this.i + off];
  }

  private step(): void {
    const c = this.cps[this.i]!;
    switch (c) {
      case '\\':
        this.i++;
        this.out += this.escape(false);
        return;
      case '[':
        this.i++;
        this.out += this.charClass();
        return;
      case '(':
        this.i++;
        this.out += this.group();
        return;
      case '.':
        this.i++;
        this.out += this.dotAll ? '[\\s\\S]' : '[^\\n]';
        return;
      case '{':
        this.i++;
        this.out += this.repeatOrLiteral();
        return;
      case '}':
      case ']':
      case '/':
        this.i++;
        this.out += '\\' + c;
        return;
      default:
        this.i++;
        this.out += c;
    }
  }

  /** After `(`: plain, non-capturing, named, or a construct RE2 or JS cannot express. */
  private group(): string {
    if (this.peek() !== '?') return '(';
    const rest = this.cps.slice(this.i, this.i + 4).join('');
    if (rest.startsWith('?:')) {
      this.i += 2;
      return '(?:';
    }
    if (rest.startsWith('?P<') || (rest.startsWith('?<') && rest[2] !== '=' && rest[2] !== '!')) {
      this.i += rest.startsWith('?P<') ? 3 : 2;
      const end = this.cps.indexOf('>', this.i);
      if (end < 0) throw bad(this.pattern, 'unterminated group name');
      const name = this.cps.slice(this.i, end).join('');
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw bad(this.pattern, `invalid group name \`${name}\``);
      this.i = end + 1;
      return `(?<${name}>`;
    }
    if (/^\?(=|!|<=|<!)/.test(rest))
      throw bad(this.pattern, 'look-around assertions are not supported by RE2 (nor by DM)');
    throw bad(this.pattern, 'inline flags are only supported at the start of the pattern, e.g. (?i)abc');
  }

  /** `{n}`, `{n,}`, `{n,m}` are repeats (max 1000, as in Go); any other `{` is a literal brace. */
  private repeatOrLiteral(): string {
    const rest = this.cps.slice(this.i, this.i + 24).join('');
    const m = /^(\d+)(,(\d*))?\}/.exec(rest);
    if (!m) return '\\{';
    const lo = Number(m[1]);
    const hi = m[3] ? Number(m[3]) : lo;
    if (lo > 1000 || hi > 1000 || (m[3] && hi < lo)) throw bad(this.pattern, `invalid repeat count {${m[0]}`);
    this.i += m[0].length;
    return '{' + m[0];
  }

  /** After `\`. Returns the JS text for the escape (valid inside or outside a class, as asked). */
  private escape(inClass: boolean): string {
    const c = this.cps[this.i++];
    if (c === undefined) throw bad(this.pattern, 'trailing backslash');
    switch (c) {
      case 'A':
      case 'z':
        if (inClass) throw bad(this.pattern, `\\${c} inside a character class`);
        return c === 'A' ? '(?<![\\s\\S])' : '(?![\\s\\S])';
      case 'Q': {
        let lit = '';
        while (this.i < this.cps.length && !(this.cps[this.i] === '\\' && this.cps[this.i + 1] === 'E'))
          lit += this.literal(this.cps[this.i++]!, inClass);
        if (this.i < this.cps.length) this.i += 2;
        return lit;
      }
      case 'd':
      case 'D':
      case 'w':
      case 'W':
      case 's':
      case 'S':
      case 'n':
      case 't':
      case 'r':
      case 'f':
      case 'v':
        return '\\' + c;
      case 'b':
      case 'B':
        if (inClass) throw bad(this.pattern, `\\${c} inside a character class`);
        return '\\' + c;
      case 'a':
        return '\\x07';
      case 'p':
      case 'P':
        return this.unicodeClass(c);
      case 'x':
        return this.hexEscape();
      case 'C':
        throw bad(this.pattern, '\\C (any byte) is not supported');
      default:
        if (c >= '0' && c <= '7') return this.octal(c);
        if (/^[\p{L}\p{N}]$/u.test(c)) throw bad(this.pattern, `invalid escape \\${c}`);
        return this.literal(c, inClass);
    }
  }

  private literal(c: string, inClass = false): string {
    return JS_SYNTAX.has(c) || (inClass && c === '-') ? '\\' + c : c;
  }

  private unicodeClass(p: string): string {
    let name: string;
    if (this.peek() === '{') {
      const end = this.cps.indexOf('}', this.i);
      if (end < 0) throw bad(this.pattern, 'unterminated \\p{...}');
      name = this.cps.slice(this.i + 1, end).join('');
      this.i = end + 1;
    } else {
      name = this.cps[this.i++] ?? '';
    }
    let neg = p === 'P';
    if (name.startsWith('^')) {
      neg = !neg;
      name = name.slice(1);
    }
    if (!/^[A-Za-z_]+$/.test(name)) throw bad(this.pattern, `invalid Unicode class \\${p}{${name}}`);
    const body = CATEGORIES.has(name) ? name : `Script=${name}`;
    return `\\${neg ? 'P' : 'p'}{${body}}`;
  }

  private hexEscape(): string {
    if (this.peek() === '{') {
      const end = this.cps.indexOf('}', this.i);
      const hex = end < 0 ? '' : this.cps.slice(this.i + 1, end).join('');
      if (!/^[0-9A-Fa-f]{1,6}$/.test(hex) || parseInt(hex, 16) > 0x10ffff)
        throw bad(this.pattern, 'invalid \\x{...} escape');
      this.i = end + 1;
      return `\\u{${hex}}`;
    }
    const hex = this.cps.slice(this.i, this.i + 2).join('');
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw bad(this.pattern, 'invalid \\x escape');
    this.i += 2;
    return `\\x${hex}`;
  }

  /** Go: `\0`..`\7` start an octal code of up to three digits; a lone `\1`..`\7` is a back-reference (unsupported). */
  private octal(first: string): string {
    let digits = first;
    while (digits.length < 3 && /[0-7]/.test(this.peek() ?? '')) digits += this.cps[this.i++];
    if (first !== '0' && digits.length === 1) throw bad(this.pattern, 'back-references are not supported by RE2');
    return `\\u{${parseInt(digits, 8).toString(16)}}`;
  }

  /** After `[`: a bracket expression. A `]` right after `[` or `[^` is a literal, as in Go. */
  private charClass(): string {
    let out = '[';
    if (this.peek() === '^') {
      out += '^';
      this.i++;
    }
    let first = true;
    for (;;) {
      const c = this.cps[this.i];
      if (c === undefined) throw bad(this.pattern, 'missing closing ]');
      if (c === ']' && !first) {
        this.i++;
        return out + ']';
      }
      first = false;
      if (c === '[' && this.peek(1) === ':') {
        const end = this.cps.indexOf(']', this.i);
        const m = /^\[:(\^?)([a-z]+):\]$/.exec(this.cps.slice(this.i, end + 1).join(''));
        if (m && POSIX[m[2]!] !== undefined) {
          if (m[1]) throw bad(this.pattern, `negated POSIX class [:^${m[2]}:] is not supported by tsdm`);
          out += POSIX[m[2]!];
          this.i = end + 1;
          continue;
        }
      }
      this.i++;
      if (c === '\\') out += this.escape(true);
      else if (c === '-') out += '-';
      else out += this.literal(c, true);
    }
  }
}
