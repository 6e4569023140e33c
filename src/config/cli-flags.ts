/**
 * The check of long flags both dm-agent and dmctl run before meow. meow's own unknown-flag check (yargs-parser's
 * `unknown-options-as-args`) takes a flag that starts with a known one followed by a non-word character for the known
 * one: `--nats-tokn x` passed as `--nats` and was ignored. Here a long flag is known only by its exact name.
 */
import { secretFlagProblem } from '../coord/nats-flags.ts';

export interface FlagSpec {
  type: 'string' | 'boolean' | 'number';
  shortFlag?: string;
}

const kebab = (prop: string) => prop.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The problem with the first long flag of `argv` that `flags` (meow's spec, camelCase names) does not define, or
 * undefined. `builtin` are flags meow handles itself (help, version). A secret's flag (`--nats-password`) gets a
 * message that says where the secret goes instead.
 */
export function unknownFlagProblem(
  argv: readonly string[],
  flags: Record<string, FlagSpec>,
  builtin: readonly string[] = [],
): string | undefined {
  const known = new Map<string, FlagSpec>(Object.entries(flags).map(([k, v]) => [kebab(k), v]));
  for (const b of builtin) known.set(b, { type: 'boolean' });
  // Short flags too: meow reports an unknown one itself, as text, and exits the process (no --json document).
  const shorts = new Map<string, FlagSpec>(
    Object.values(flags).flatMap((v) => (v.shortFlag ? [[v.shortFlag, v] as const] : [])),
  );
  shorts.set('h', { type: 'boolean' });
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return undefined; // the rest are arguments
    if (/^-[^-]/.test(a)) {
      const spec = shorts.get(a[1]!);
      if (!spec) return `unknown flag -${a[1]}`;
      // `-s s1` or `-ss1`; a boolean takes no value (and `-hx` is not a thing here).
      if (spec.type !== 'boolean' && a.length === 2) i++;
      else if (spec.type === 'boolean' && a.length > 2) return `unknown flag ${a}`;
      continue;
    }
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const spec = known.get(name) ?? (name.startsWith('no-') ? known.get(name.slice(3)) : undefined);
    if (!spec || (spec !== known.get(name) && spec.type !== 'boolean'))
      return secretFlagProblem(name) ?? `unknown flag --${name}`;
    // A value in the next argument is not a flag, even if it starts with "--".
    if (spec.type !== 'boolean' && eq < 0) i++;
  }
  return undefined;
}
