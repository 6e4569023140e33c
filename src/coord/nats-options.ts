/**
 * The NATS connection options dm-agent and dmctl share (issue #16 item 3): one table gives each option its flag,
 * environment variable and agent.yaml key, so both programs accept the same set and say the same thing about it.
 *
 * Secrets (a password, a token) come from the environment, agent.yaml or a file, never from a flag: a command line
 * is visible to every user of the host in `ps`. Seeds, JWTs and private keys are only ever read from files.
 */
import { z } from 'zod';
import { DmError } from '../errors/index.ts';
import { NATS_OPTIONS, type NatsField, type NatsOrigins, type NatsSettings } from './nats-flags.ts';

export {
  NATS_FLAGS,
  NATS_OPTIONS,
  flagProp,
  natsSettingsFrom,
  secretFlagProblem,
  type NatsField,
  type NatsOptionSpec,
  type NatsOrigins,
  type NatsSettings,
} from './nats-flags.ts';

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
