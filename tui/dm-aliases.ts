/**
 * DM's deprecated dmctl commands, still accepted by DM's dmctl (hidden from its help) and still used by DM's own
 * scripts: each is rewritten into the tsdm command that does the same, with its arguments in that command's order,
 * before the command line is parsed. Pure: the flags, positions and errors of the target command apply.
 *
 *   operate-schema get|set|remove -s SRC TASK -d DB -t TABLE [FILE]  ->  binlog-schema list|update|delete TASK DB TABLE [FILE] -s SRC
 *   show-ddl-locks [-s SRC] [TASK]                                      ->  shard-ddl-lock [TASK]
 *   unlock-ddl-lock LOCK-ID [-o OWNER] [-f] [-a ACTION] [-s SRC]        ->  shard-ddl-lock unlock LOCK-ID …
 *   handle-error TASK [-s SRC] [-b POS] skip|replace|revert [SQL…]      ->  binlog skip|replace|revert TASK …
 *   get-config task|source NAME                                         ->  config task|source NAME
 */

export interface Rewritten {
  name: string;
  rest: string[];
  /** Said on stderr: which command this is now. */
  note: string;
}

interface Split {
  positional: string[];
  /** Flags as written (with their values), in order; `take` removes the ones the rewrite consumes. */
  flags: string[][];
}

/** Splits argv into positions and flags; `valueFlags`: the flags (either spelling) that take the next word. */
function split(rest: readonly string[], valueFlags: ReadonlySet<string>): Split {
  const out: Split = { positional: [], flags: [] };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('-') || a === '-') out.positional.push(a);
    else if (!a.includes('=') && valueFlags.has(a) && i + 1 < rest.length) out.flags.push([a, rest[++i]!]);
    else out.flags.push([a]);
  }
  return out;
}

/** Removes the flags spelled as one of `names` (`-d X`, `--database X`, `--database=X`); their last value. */
function take(s: Split, names: readonly string[]): string | undefined {
  let value: string | undefined;
  s.flags = s.flags.filter((f) => {
    const [flag, v] = f;
    const eq = flag!.indexOf('=');
    const name = eq > 0 ? flag!.slice(0, eq) : flag!;
    if (!names.includes(name)) return true;
    value = eq > 0 ? flag!.slice(eq + 1) : (v ?? '');
    return false;
  });
  return value;
}

const flat = (s: Split): string[] => s.flags.flat();

/**
 * The tsdm command for one of DM's deprecated commands, or undefined when `name` is not one. `globalValueFlags`:
 * dmctl's own flags that take a value (--nats URL …), so their values are not taken for positions.
 */
export function rewriteDmAlias(
  name: string,
  rest: readonly string[],
  globalValueFlags: ReadonlySet<string>,
): Rewritten | undefined {
  const values = (...f: string[]) => new Set([...globalValueFlags, ...f]);
  const note = (to: string) => `note: ${name} is DM's deprecated name; running \`dmctl ${to}\``;
  switch (name) {
    case 'operate-schema': {
      const s = split(rest, values('-d', '--database', '-t', '--table', '-s', '--source'));
      const db = take(s, ['-d', '--database']);
      const table = take(s, ['-t', '--table']);
      const [op, task, file, ...extra] = s.positional;
      const verb = { get: 'list', set: 'update', remove: 'delete' }[op ?? ''] ?? op ?? '';
      // DM ignores a file given to get/remove (it says so); a file to set is the schema.
      const args = [verb, ...(task ? [task] : []), ...(db ? [db] : []), ...(table ? [table] : [])];
      if (file !== undefined && verb === 'update') args.push(file);
      return {
        name: 'binlog-schema',
        rest: [...args, ...extra, ...flat(s)],
        note: note(`binlog-schema ${args.join(' ')}`),
      };
    }
    case 'show-ddl-locks': {
      const s = split(rest, values('-s', '--source'));
      take(s, ['-s', '--source']);
      return { name: 'shard-ddl-lock', rest: [...s.positional, ...flat(s)], note: note('shard-ddl-lock') };
    }
    case 'unlock-ddl-lock': {
      const s = split(
        rest,
        values('-o', '--owner', '-a', '--action', '-s', '--source', '-d', '--database', '-t', '--table'),
      );
      const owner = take(s, ['-o', '--owner']);
      const action = take(s, ['-a', '--action']);
      const force = take(s, ['-f']);
      const args = ['unlock', ...s.positional];
      if (owner !== undefined) args.push('--owner', owner);
      if (action !== undefined) args.push('--action', action);
      if (force !== undefined) args.push('--force-remove');
      return { name: 'shard-ddl-lock', rest: [...args, ...flat(s)], note: note(`shard-ddl-lock ${args.join(' ')}`) };
    }
    case 'handle-error': {
      const s = split(rest, values('-s', '--source', '-b', '--binlog-pos'));
      const [task, op, ...sqls] = s.positional;
      const args = [op ?? '', ...(task ? [task] : []), ...sqls];
      return { name: 'binlog', rest: [...args, ...flat(s)], note: note(`binlog ${op ?? ''} ${task ?? ''}`) };
    }
    case 'get-config': {
      const s = split(rest, values('-f', '--file'));
      const [kind, id, ...extra] = s.positional;
      return {
        name: 'config',
        rest: [kind ?? '', ...(id ? [id] : []), ...extra, ...flat(s)],
        note: note(`config ${kind ?? ''} ${id ?? ''}`),
      };
    }
    default:
      return undefined;
  }
}

/** DM's list form of `-s`: `-s a,b` names two sources, as `-s a -s b` does. */
export function sourceList(values: readonly string[]): string[] {
  return values.flatMap((s) => s.split(',').map((x) => x.trim())).filter((x) => x !== '');
}
