/**
 * The NATS connection options dm-agent and dmctl share (issue #16 item 3): one table gives each option its flag,
 * environment variable and agent.yaml key, so both programs accept the same set and say the same thing about it.
 *
 * Secrets (a password, a token) come from the environment, agent.yaml or a file, never from a flag: a command line
 * is visible to every user of the host in `ps`. Seeds, JWTs and private keys are only ever read from files.
 */
import { DmError } from '../errors/index.ts';
import { NATS_OPTIONS, type NatsOrigins, type NatsSettings } from './nats-flags.ts';

/** Every field, in the order their shapes are checked; only `password` may be empty. */
const FIELDS: readonly (keyof NatsSettings)[] = [
  'servers',
  'user',
  'password',
  'passwordFile',
  'token',
  'tokenFile',
  'nkey',
  'creds',
  'tlsCa',
  'tlsCert',
  'tlsKey',
];

type Problem = [keyof NatsSettings, string];

/** Shapes: each a non-empty string (servers required, the rest optional), no other key. */
function shapeProblem(s: NatsSettings): Problem | undefined {
  for (const f of FIELDS) {
    const v: unknown = s[f];
    if (v === undefined && f !== 'servers') continue;
    if (typeof v !== 'string') return [f, `Invalid input: expected string, received ${v === null ? 'null' : typeof v}`];
    if (v === '' && f !== 'password') return [f, 'must not be empty'];
  }
  const extra = Object.keys(s).find((k) => !(FIELDS as readonly string[]).includes(k));
  return extra === undefined ? undefined : ['servers', `Unrecognized key: "${extra}"`];
}

/**
 * Combinations: one way to authenticate (a user, a token, an nkey or a credentials file), a password only with a
 * user and from one place, a client certificate with its key. Plain code rather than a zod schema: dmctl checks
 * these at every start and zod is not otherwise loaded by most commands (issue #18).
 */
function comboProblem(s: NatsSettings): Problem | undefined {
  if (s.password !== undefined && s.passwordFile !== undefined)
    return ['passwordFile', 'give the password once: in the environment or agent.yaml, or in a file, not both'];
  if (s.token !== undefined && s.tokenFile !== undefined)
    return ['tokenFile', 'give the token once: in the environment or agent.yaml, or in a file, not both'];
  if ((s.password !== undefined || s.passwordFile !== undefined) && s.user === undefined)
    return [s.password !== undefined ? 'password' : 'passwordFile', 'a NATS password needs a user (--nats-user)'];
  const ways = (
    [
      ['user', s.user],
      ['token', s.token ?? s.tokenFile],
      ['nkey', s.nkey],
      ['creds', s.creds],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (ways.length > 1)
    return [
      ways[1]![0],
      `choose one way to authenticate to NATS: ${ways.map(([w]) => w).join(' and ')} are both set (a user with a password, a token, an nkey seed or a credentials file)`,
    ];
  if ((s.tlsCert === undefined) !== (s.tlsKey === undefined))
    return [
      s.tlsCert === undefined ? 'tlsKey' : 'tlsCert',
      'a client certificate needs both --nats-tls-cert and --nats-tls-key',
    ];
  return undefined;
}

/** Checks the settings; throws ConfigInvalid naming the option where it came from (never a secret's value). */
export function checkNatsSettings(s: NatsSettings, origins: NatsOrigins): void {
  const p = shapeProblem(s) ?? comboProblem(s);
  if (!p) return;
  const [field, message] = p;
  const where = origins[field] ?? optionName(field);
  throw new DmError('ConfigInvalid', `${where}: ${message}`, { context: { key: where } });
}

/** The option's name for messages when its origin is unknown: the flag, or the variable of a secret. */
export function optionName(field: keyof NatsSettings): string {
  if (field === 'servers') return '--nats';
  const o = NATS_OPTIONS.find((x) => x.field === field)!;
  return o.secret ? o.env : `--${o.key}`;
}
