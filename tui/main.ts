// The start of every dmctl call (issue #18): only the command table and the flag tables load here; meow, the NATS
// client, zod schemas and the command itself are imported once the command line says which command runs.
import type { Command, GlobalFlags } from './context.ts';
import { Exit } from './exit.ts';
import { COMMANDS, DASHBOARD, type CommandEntry } from './commands/registry.ts';
import { NATS_FLAGS, flagProp, natsSettingsFrom, secretFlagProblem } from '../src/coord/nats-flags.ts';
import { unknownFlagProblem } from '../src/config/cli-flags.ts';
import { rewriteDmAlias, sourceList } from './dm-aliases.ts';

export { COMMANDS };

export const VERSION = '0.1.0';

const GLOBAL_FLAGS = {
  nats: { type: 'string' as const, default: process.env.TSDM_NATS ?? 'nats://127.0.0.1:4222' },
  cluster: { type: 'string' as const, default: process.env.TSDM_CLUSTER ?? 'dm' },
  json: { type: 'boolean' as const, default: false },
  timeout: { type: 'number' as const, default: 10 },
  replicas: { type: 'number' as const, default: Number(process.env.TSDM_REPLICAS ?? 1) },
  secretKeyPath: { type: 'string' as const },
  // --nats-user, --nats-creds, --nats-tls-ca, …: the options dm-agent takes too (src/coord/nats-options.ts).
  ...Object.fromEntries(NATS_FLAGS.map((o) => [flagProp(o.key), { type: 'string' as const }])),
};
const VALUE_FLAGS = new Set([
  '--nats',
  '--cluster',
  '--timeout',
  '--replicas',
  '--secret-key-path',
  ...NATS_FLAGS.map((o) => `--${o.key}`),
]);

const GLOBAL_HELP = `
  Global flags
    --nats URL[,URL]   NATS server(s) (env TSDM_NATS, default nats://127.0.0.1:4222)
    --cluster NAME     cluster name (env TSDM_CLUSTER, default dm)
    --json             print one JSON document instead of text
    --timeout SEC      how long to wait for agents to answer (default 10)
    --replicas N       replicas of the KV buckets if dmctl creates them (env TSDM_REPLICAS, default 1)
    --secret-key-path FILE  key for encrypt and for files with encrypted passwords (env TSDM_SECRET_KEY_PATH)
    --help             help (for a command: dmctl COMMAND --help)

  NATS credentials and TLS (each also from its env variable; the same options as dm-agent)
    --nats-user USER           NATS user (env TSDM_NATS_USER); password from env TSDM_NATS_PASSWORD or:
    --nats-password-file FILE  file holding the password (env TSDM_NATS_PASSWORD_FILE)
    --nats-token-file FILE     file holding a token (env TSDM_NATS_TOKEN_FILE, or the token in TSDM_NATS_TOKEN)
    --nats-nkey FILE           nkey seed file (env TSDM_NATS_NKEY)
    --nats-creds FILE          credentials file, user JWT + seed, for NATS accounts (env TSDM_NATS_CREDS)
    --nats-tls-ca FILE         CA of the NATS server's certificate (env TSDM_NATS_TLS_CA)
    --nats-tls-cert FILE       client certificate, for nats-server --tlsverify (env TSDM_NATS_TLS_CERT)
    --nats-tls-key FILE        its private key (env TSDM_NATS_TLS_KEY)
    Credentials in the URL work too (nats://user:password@host:4222); they are never printed.

  Exit codes
    0 success   1 the operation failed (coded error)   2 bad usage or invalid config file (NATS credentials
    or TLS refused included)   3 cluster unreachable   4 query-status --wait-for timed out
`;

export function mainHelp(): string {
  const all: CommandEntry[] = [...COMMANDS, DASHBOARD];
  const width = Math.max(...all.map((c) => c.name.length));
  return `
  Usage
    $ dmctl [global flags] [COMMAND [args]]      (no command on a terminal: the dashboard)

  Commands
${all.map((c) => `    ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

  DM's deprecated command names run the command that replaced them: operate-schema (binlog-schema),
  show-ddl-locks and unlock-ddl-lock (shard-ddl-lock), handle-error (binlog), get-config (config).
${GLOBAL_HELP}
  Examples
    $ dmctl operate-source create source1.yaml
    $ dmctl start-task task.yaml
    $ dmctl query-status my-task --json
    $ dmctl                                   # interactive dashboard
`;
}

function splitCommand(argv: string[]): { name: string | undefined; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (VALUE_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return { name: a, rest: [...argv.slice(0, i), ...argv.slice(i + 1)] };
  }
  return { name: undefined, rest: argv };
}

export async function main(
  argv: string[],
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  // What the user typed wrong: with --json, the JSON error document every other failure prints (on stdout).
  const json = argv.some((a) => a === '--json' || a === '--json=true');
  const usage = async (message: string, hint = ''): Promise<number> => {
    if (!json) {
      err.write(`Error: ${message}\n${hint}`);
      return Exit.usage;
    }
    const { DmError } = await import('../src/errors/index.ts');
    const rec = new DmError('BadArguments', message, hint ? { suggestion: hint.trim() } : {}).toRecord();
    out.write(`${JSON.stringify({ result: false, error: rec }, null, 2)}\n`);
    return Exit.usage;
  };
  // Before splitting: `--nats-token VALUE` would otherwise make VALUE the command name.
  const secret = argv.map((a) => (a.startsWith('--') ? secretFlagProblem(a.slice(2).split('=')[0]!) : undefined));
  if (secret.some(Boolean)) return usage(secret.find(Boolean)!);
  const split = splitCommand(argv);
  // DM's deprecated names (operate-schema, show-ddl-locks, …), as DM's scripts still use them: the tsdm command.
  const alias = split.name ? rewriteDmAlias(split.name, split.rest, VALUE_FLAGS) : undefined;
  if (alias && !json) err.write(`${alias.note}\n`);
  const { name, rest } = alias ?? split;
  // No command opens the dashboard (on a terminal; elsewhere it prints query-status), unless help or version is asked.
  const wantsDashboard =
    name === DASHBOARD.name || (name === undefined && !['--help', '-h', '--version'].some((f) => rest.includes(f)));
  const entry = COMMANDS.find((c) => c.name === name) ?? (wantsDashboard ? DASHBOARD : undefined);
  if (name && !entry) return usage(`unknown command "${name}". Run dmctl --help for the list.`);
  if (!entry) {
    if (rest.includes('--version')) {
      out.write(VERSION + '\n');
      return Exit.ok;
    }
    out.write(mainHelp());
    return Exit.ok;
  }
  const cmd: Command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    out.write(`${cmd.summary}\n${cmd.usage}${GLOBAL_HELP}`);
    return Exit.ok;
  }
  const flagSpecs = { ...GLOBAL_FLAGS, ...(cmd.flags ?? {}) };
  const bad = unknownFlagProblem(rest, flagSpecs);
  if (bad) return usage(bad, `Run dmctl ${cmd.name} --help.\n`);
  const { default: meow } = await import('meow');
  let cli;
  try {
    cli = meow(cmd.usage, {
      importMeta: import.meta,
      argv: rest,
      autoHelp: false,
      autoVersion: false,
      allowUnknownFlags: false,
      flags: flagSpecs,
    });
  } catch (e) {
    return usage((e as Error).message, `Run dmctl ${cmd.name} --help.\n`);
  }
  const f = cli.flags as Record<string, unknown>;
  if (Array.isArray(f.source)) f.source = sourceList(f.source as string[]);
  const flags: GlobalFlags = {
    nats: String(f.nats),
    cluster: String(f.cluster),
    json: f.json === true,
    timeout: Number(f.timeout),
    natsOptions: natsSettingsFrom(
      String(f.nats),
      rest.some((a) => a === '--nats' || a.startsWith('--nats=')) || !process.env.TSDM_NATS ? '--nats' : 'TSDM_NATS',
      f,
      process.env,
    ),
  };
  flags.replicas = Number(f.replicas);
  const keyPath = typeof f.secretKeyPath === 'string' ? f.secretKeyPath : process.env.TSDM_SECRET_KEY_PATH;
  if (keyPath) flags.secretKeyPath = keyPath;
  const { CommandContext } = await import('./context.ts');
  const ctx = new CommandContext(flags, out, err);
  try {
    return await cmd.run(ctx, cli.input, f);
  } catch (e) {
    return ctx.fail(e);
  } finally {
    await ctx.close();
  }
}

const isEntry = process.argv[1] !== undefined && /(dmctl(\.js)?|tui[/\\]main\.ts)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`dmctl: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
