import { Writable } from 'node:stream';
import type { Coord } from '../../src/coord/index.ts';
import { CommandContext, Exit, type Command, type GlobalFlags } from '../context.ts';

/** A CommandContext that lends the dashboard's NATS connection to a verb and keeps what it prints. */
class SharedContext extends CommandContext {
  constructor(
    flags: GlobalFlags,
    private readonly shared: Coord,
    out: NodeJS.WritableStream,
    err: NodeJS.WritableStream,
  ) {
    super({ ...flags, json: false }, out, err);
  }
  override coord(): Promise<Coord> {
    return Promise.resolve(this.shared);
  }
  override async close(): Promise<void> {
    /* the connection belongs to the dashboard */
  }
}

function sink(): { stream: Writable; text: () => string } {
  let buf = '';
  return {
    stream: new Writable({
      write(c, _e, cb) {
        buf += String(c);
        cb();
      },
    }),
    text: () => buf,
  };
}

/**
 * Runs a dmctl verb exactly as the command line does (same validation, same writes, same wording) and returns its
 * output as one line for the status bar. A non-zero exit or a thrown error rejects.
 */
export async function runVerb(
  cmd: Command,
  coord: Coord,
  flags: GlobalFlags,
  args: string[],
  cmdFlags: Record<string, unknown> = {},
): Promise<string> {
  const out = sink();
  const err = sink();
  const code = await cmd.run(new SharedContext(flags, coord, out.stream, err.stream), args, cmdFlags);
  const text = (s: string) =>
    s
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join('; ');
  if (code !== Exit.ok)
    throw new Error(text(err.text()) || text(out.text()) || `dmctl ${cmd.name} exited with ${code}`);
  return text(out.text());
}
