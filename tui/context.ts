import { Coord, READ_RETRY_MS, resolveNatsAuth, type NatsOrigins, type NatsSettings } from '../src/coord/index.ts';
import { BUILTIN_KEY_WARNING, loadSecretKey } from '../src/config/secret-key.ts';
import { DmError, Errors, asDmError, formatRecord, type ErrorRecord } from '../src/errors/index.ts';

/** What every dmctl command gets: the global flags, a lazily opened NATS connection, and output helpers. */
export interface GlobalFlags {
  nats: string;
  cluster: string;
  json: boolean;
  /** NATS credentials and TLS (flags, else TSDM_* env); without it, `nats` is an open server. */
  natsOptions?: { settings: NatsSettings; origins: NatsOrigins };
  timeout: number;
  replicas?: number;
  secretKeyPath?: string;
}

import { Exit } from './exit.ts';

export { Exit };

/** Errors in what the user typed or wrote (arguments, config files): exit 2. Everything else that fails: exit 1. */
const USAGE_CODES = new Set(
  [
    Errors.ConfigFileRead,
    Errors.ConfigYamlSyntax,
    Errors.ConfigInvalid,
    Errors.ConfigUnknownKey,
    Errors.ConfigUnsupportedKey,
    Errors.ConfigUnknownRule,
    Errors.ConfigDeprecatedConflict,
    Errors.ConfigBadPattern,
    Errors.ConfigTooLarge,
    Errors.ConfigAliasLimit,
    Errors.BadArguments,
    Errors.MetaRequired,
    Errors.StartTimeInvalid,
    Errors.SecretKey,
    // Wrong NATS options, refused credentials, TLS the options do not fit: retrying the same command cannot help.
    Errors.NatsFile,
    Errors.NatsAuthRefused,
    Errors.NatsTls,
  ].map((s) => s.code),
);

export class CommandContext {
  private coordP: Promise<Coord> | undefined;
  private retryNoted = false;
  private readonly warnings: string[] = [];
  constructor(
    readonly flags: GlobalFlags,
    readonly out: NodeJS.WritableStream = process.stdout,
    readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  /** The one NATS connection of this command (the dashboard's too): the global flags' servers, credentials, TLS. */
  coord(): Promise<Coord> {
    this.coordP ??= this.connect();
    return this.coordP;
  }

  private async connect(): Promise<Coord> {
    const o = this.flags.natsOptions ?? { settings: { servers: this.flags.nats }, origins: { servers: '--nats' } };
    return Coord.connect({
      auth: resolveNatsAuth(o.settings, o.origins),
      cluster: this.flags.cluster,
      name: 'dmctl',
      timeoutMs: 3000,
      replicas: this.flags.replicas ?? 1,
      onRetry: () => {
        if (this.retryNoted) return;
        this.retryNoted = true;
        this.err.write(
          `JetStream is not answering (a NATS node down, a stream electing its leader?); retrying for up to ${READ_RETRY_MS / 1000} s…\n`,
        );
      },
    });
  }

  /** Key for `encrypt` and for encrypting passwords before a file is stored in NATS (--secret-key-path). */
  secretKey(): Buffer {
    if (!this.flags.secretKeyPath) this.warn(BUILTIN_KEY_WARNING);
    return loadSecretKey(this.flags.secretKeyPath);
  }

  /**
   * Something the user must know that does not fail the command: on stderr as "WARNING: …" (once), or with --json
   * in the document's `warnings` list (json() adds it), so the JSON on stdout stays one parseable document.
   */
  warn(text: string): void {
    if (this.warnings.includes(text)) return;
    this.warnings.push(text);
    if (!this.flags.json) this.err.write(`WARNING: ${text}\n`);
  }

  async close(): Promise<void> {
    if (this.coordP) await (await this.coordP.catch(() => undefined))?.close();
  }

  print(text: string): void {
    this.out.write(text.endsWith('\n') ? text : text + '\n');
  }
  json(doc: unknown): void {
    if (this.warnings.length && doc && typeof doc === 'object' && !Array.isArray(doc)) {
      const own = (doc as { warnings?: unknown }).warnings;
      doc = { ...doc, warnings: [...(Array.isArray(own) ? own : []), ...this.warnings] };
    }
    this.out.write(JSON.stringify(doc, null, 2) + '\n');
  }

  /** Reports an error in the chosen format and returns its exit code. */
  fail(err: unknown): number {
    const e = asDmError(err);
    const code = USAGE_CODES.has(e.code)
      ? Exit.usage
      : e.code === Errors.NatsConnect.code || e.code === Errors.Timeout.code || e.code === Errors.JetStreamDisabled.code
        ? Exit.unreachable
        : e.code === Errors.WaitTimeout.code
          ? Exit.waitTimeout
          : Exit.failed;
    if (this.flags.json) this.json({ result: false, error: e.toRecord() });
    else this.err.write(`Error: ${e.format()}\n`);
    return code;
  }

  failRecord(rec: ErrorRecord, exit: number = Exit.failed): number {
    if (this.flags.json) this.json({ result: false, error: rec });
    else this.err.write(`Error: ${formatRecord(rec)}\n`);
    return exit;
  }
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Flags beyond the global ones: name -> meow flag spec. */
  flags?: Record<
    string,
    { type: 'string' | 'boolean' | 'number'; shortFlag?: string; isMultiple?: boolean; default?: boolean }
  >;
  run(ctx: CommandContext, args: string[], flags: Record<string, unknown>): Promise<number>;
}

export function usageError(msg: string): DmError {
  return new DmError('BadArguments', msg);
}
