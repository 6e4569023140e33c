/**
 * The NATS options dm-agent and dmctl share, as flags and environment variables: the table and what reads flags with
 * it. No imports, so dmctl's start (`--help`, splitting the command line) loads nothing else (issue #18); the checks
 * of the values (zod) are in nats-options.ts.
 */

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
