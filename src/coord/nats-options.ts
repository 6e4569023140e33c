/**
 * The NATS connection options dm-agent and dmctl share (issue #16 item 3): one table gives each option its flag,
 * environment variable and agent.yaml key, so both programs accept the same set and say the same thing about it.
 *
 * Secrets (a password, a token) come from the environment, agent.yaml or a file, never from a flag: a command line
 * is visible to every user of the host in `ps`. Seeds, JWTs and private keys are only ever read from files.
 */
import { z } from 'zod';
import { DmError } from '../errors/index.ts';

/** What the user gave; `servers` may carry credentials (`nats://user:pass@host`, `nats://token@host`). */
export interface NatsSettings {
  /** Comma-separated server URLs. */
  servers: string;
  user?: string;
  password?: string;
  passwordFile?: string;
  token?: string;
  tokenFile?: string;
  /** nkey seed file (a line `SU…`). */
  nkey?: string;
  /** Credentials file: user JWT + nkey seed, as `nsc` writes it (NATS accounts with an operator). */
  creds?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export type NatsField = Exclude<keyof NatsSettings, 'servers'>;

/** Where each value came from, for messages: `--nats-creds`, `TSDM_NATS_CREDS`, `agent.yaml nats-creds`. */
export type NatsOrigins = Partial<Record<keyof NatsSettings, string>>;

export interface NatsOptionSpec {
  field: NatsField;
  /** agent.yaml key; also the flag name unless `secret`. */
  key: string;
  env: string;
  /** A secret value: environment or agent.yaml only, never a flag. */
  secret?: true;
  /** The value is a path (agent.yaml: relative to the file). */
  file?: true;
}

export const NATS_OPTIONS: readonly NatsOptionSpec[] = [
  { field: 'user', key: 'nats-user', env: 'TSDM_NATS_USER' },
  { field: 'password', key: 'nats-password', env: 'TSDM_NATS_PASSWORD', secret: true },
  { field: 'passwordFile', key: 'nats-password-file', env: 'TSDM_NATS_PASSWORD_FILE', file: true },
  { field: 'token', key: 'nats-token', env: 'TSDM_NATS_TOKEN', secret: true },
  { field: 'tokenFile', key: 'nats-token-file', env: 'TSDM_NATS_TOKEN_FILE', file: true },
  { field: 'nkey', key: 'nats-nkey', env: 'TSDM_NATS_NKEY', file: true },
  { field: 'creds', key: 'nats-creds', env: 'TSDM_NATS_CREDS', file: true },
  { field: 'tlsCa', key: 'nats-tls-ca', env: 'TSDM_NATS_TLS_CA', file: true },
  { field: 'tlsCert', key: 'nats-tls-cert', env: 'TSDM_NATS_TLS_CERT', file: true },
  { field: 'tlsKey', key: 'nats-tls-key', env: 'TSDM_NATS_TLS_KEY', file: true },
];

/** Flags both programs take (kebab-case), each a string. */
export const NATS_FLAGS: readonly NatsOptionSpec[] = NATS_OPTIONS.filter((o) => !o.secret);

/** The flag a secret would have, with what to use instead (both programs refuse it with this text). */
export function secretFlagProblem(flag: string): string | undefined {
  const o = NATS_OPTIONS.find((x) => x.secret && x.key === flag);
  if (!o) return undefined;
  return `--${flag} is not a flag: a value on the command line is visible to every user of the host (ps). Set ${o.env} in the environment or use --${flag}-file FILE.`;
}

/** camelCase of a kebab-case flag, as meow names it. */
export const flagProp = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * dmctl's settings: each option from its flag (meow's camelCase props), else from its environment variable. The
 * agent does the same in loadAgentConfig, with agent.yaml after the environment.
 */
export function natsSettingsFrom(
  servers: string,
  serversOrigin: string,
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): { settings: NatsSettings; origins: NatsOrigins } {
  const settings: NatsSettings = { servers };
  const origins: NatsOrigins = { servers: serversOrigin };
  for (const o of NATS_OPTIONS) {
    const f = o.secret ? undefined : flags[flagProp(o.key)];
    if (typeof f === 'string') {
      settings[o.field] = f;
      origins[o.field] = `--${o.key}`;
    } else if (env[o.env] !== undefined && env[o.env] !== '') {
      settings[o.field] = env[o.env];
      origins[o.field] = o.env;
    }
  }
  return { settings, origins };
}

const nonEmpty = z.string().min(1, 'must not be empty');

/**
 * Shapes and combinations: one way to authenticate (a user, a token, an nkey or a credentials file), a password only
 * with a user and from one place, a client certificate with its key.
 */
const schema = z
  .object({
    servers: nonEmpty,
    user: nonEmpty.optional(),
    password: z.string().optional(),
    passwordFile: nonEmpty.optional(),
    token: nonEmpty.optional(),
    tokenFile: nonEmpty.optional(),
    nkey: nonEmpty.optional(),
    creds: nonEmpty.optional(),
    tlsCa: nonEmpty.optional(),
    tlsCert: nonEmpty.optional(),
    tlsKey: nonEmpty.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const bad = (path: NatsField, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (s.password !== undefined && s.passwordFile !== undefined)
      bad('passwordFile', 'give the password once: in the environment or agent.yaml, or in a file, not both');
    if (s.token !== undefined && s.tokenFile !== undefined)
      bad('tokenFile', 'give the token once: in the environment or agent.yaml, or in a file, not both');
    if ((s.password !== undefined || s.passwordFile !== undefined) && s.user === undefined)
      bad(s.password !== undefined ? 'password' : 'passwordFile', 'a NATS password needs a user (--nats-user)');
    const ways = (
      [
        ['user', s.user],
        ['token', s.token ?? s.tokenFile],
        ['nkey', s.nkey],
        ['creds', s.creds],
      ] as const
    ).filter(([, v]) => v !== undefined);
    if (ways.length > 1)
      bad(
        ways[1]![0],
        `choose one way to authenticate to NATS: ${ways.map(([w]) => w).join(' and ')} are both set (a user with a password, a token, an nkey seed or a credentials file)`,
      );
    if ((s.tlsCert === undefined) !== (s.tlsKey === undefined))
      bad(
        s.tlsCert === undefined ? 'tlsKey' : 'tlsCert',
        'a client certificate needs both --nats-tls-cert and --nats-tls-key',
      );
  });

/** Checks the settings; throws ConfigInvalid naming the option where it came from (never a secret's value). */
export function checkNatsSettings(s: NatsSettings, origins: NatsOrigins): void {
  const r = schema.safeParse(s);
  if (r.success) return;
  const i = r.error.issues[0]!;
  const field = (i.path[0] as keyof NatsSettings | undefined) ?? 'servers';
  const where = origins[field] ?? optionName(field);
  throw new DmError('ConfigInvalid', `${where}: ${i.message}`, { context: { key: where } });
}

/** The option's name for messages when its origin is unknown: the flag, or the variable of a secret. */
export function optionName(field: keyof NatsSettings): string {
  if (field === 'servers') return '--nats';
  const o = NATS_OPTIONS.find((x) => x.field === field)!;
  return o.secret ? o.env : `--${o.key}`;
}
