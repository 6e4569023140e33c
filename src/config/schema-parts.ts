/**
 * zod building blocks shared by source.yaml and task.yaml: integer and pattern fields, and the database
 * connection block (`from` in a source, `target-database` in a task) with its conversion to DbConfig.
 */
import { z } from 'zod';
import type { DbConfig, TlsConfig } from './types.ts';
import { patternProblem } from './dm-values.ts';
import type { IssueParams } from './yaml-schema.ts';
import { sessionVarName } from '../sql/session-vars.ts';

/** Non-negative integer (DM's Go ints and uints). */
export const uint = () => z.number().int().nonnegative();
export const uint32 = () => uint().max(4294967295);
export const port = () => z.number().int().min(1).max(65535);

/**
 * The most connections one unit setting may ask for (mydumper threads, loader pool-size, syncer worker-count and their
 * `-thread` aliases, validator worker-count). DM sets no bound; tsdm does, because every unit of count N opens N
 * connections to one server at once: `syncer-thread: 100000` exhausted the downstream's max_connections and paused the
 * other tasks writing there (issue #16). 128 is eight times DM's largest default (16) and more than any 2-32 core server
 * turns into throughput; check-task then compares the task's total with the servers' max_connections (agent/check).
 */
export const MAX_UNIT_CONNECTIONS = 128;

/** A count of parallel workers, each with its own database connection: 0 (the default) up to MAX_UNIT_CONNECTIONS. */
export const connCount = () =>
  uint().superRefine((n, ctx) => {
    if (n > MAX_UNIT_CONNECTIONS)
      issue(
        ctx,
        `${n} is more than ${MAX_UNIT_CONNECTIONS}: each worker opens its own database connection, and a count this high exhausts the server's max_connections`,
        {
          suggestion: `Use at most ${MAX_UNIT_CONNECTIONS} (0 or no key means the default); \`dmctl check-task\` then checks the task's connections against the servers' max_connections.`,
        },
      );
  });

/** Adds a custom issue that yaml-schema maps to the given error code. */
export function issue(
  ctx: z.RefinementCtx,
  message: string,
  params: IssueParams = {},
  path?: (string | number)[],
): void {
  ctx.addIssue({ code: 'custom', message, params, ...(path ? { path } : {}) });
}

/** A schema/table pattern: wildcard (`*` `?` `[a-z]`) or `~regex`, compiled as the filter module will. */
export const pattern = (allowEmpty = false) =>
  z.string().superRefine((p, ctx) => {
    if (allowEmpty && p === '') return; // e.g. a route's table-pattern: '' makes it a schema-level rule
    const problem = patternProblem(p);
    if (problem) issue(ctx, problem, { dmCode: 'ConfigBadPattern' });
  });

const SECURITY_KEYS = {
  'ssl-ca': z.string().optional(),
  'ssl-cert': z.string().optional(),
  'ssl-key': z.string().optional(),
  'cert-allowed-cn': z.array(z.string()).optional(),
  // tsdm's own key (DM has none; the mysql client calls it --ssl-verify-server-cert): false disables the name check.
  'ssl-verify-server-cert': z.boolean().optional(),
  // DM's inline forms; listed as unsupported (unsupported.ts) so that using one is a clear error.
  'ssl-ca-base64': z.string().optional(),
  'ssl-cert-base64': z.string().optional(),
  'ssl-key-base64': z.string().optional(),
  'ssl-ca-bytes': z.unknown().optional(),
  'ssl-cert-bytes': z.unknown().optional(),
  'ssl-key-bytes': z.unknown().optional(),
};

/** DM's DBConfig: host, port, user, password, session, security (+ deprecated max-allowed-packet). */
export const dbSchema = (defaultPort: number) =>
  z
    .object({
      host: z.string().min(1),
      port: port().default(defaultPort),
      user: z.string().min(1),
      // Plain or DM-encrypted (`dmctl encrypt`); kept as written, decryption happens where it is used.
      password: z.string().default(''),
      'max-allowed-packet': z.number().int().optional(),
      // DM decodes session values into strings (map[string]string); toPlain keeps `off` as "off".
      session: z
        .record(z.string(), z.string())
        .default({})
        .superRefine((s, ctx) => {
          const seen = new Map<string, string>();
          for (const k of Object.keys(s)) {
            const name = sessionVarName(k);
            if (name === undefined) {
              issue(
                ctx,
                `"${k}" is not a session variable name (letters, digits and _, optionally written @@name, @@session.name or session.name)`,
                {
                  suggestion:
                    'Fix the variable name; the values are sent as `SET SESSION name = value` on every connection.',
                },
                [k],
              );
              continue;
            }
            const prev = seen.get(name);
            if (prev !== undefined)
              issue(
                ctx,
                `"${k}" sets ${name} again (already set as "${prev}")`,
                { suggestion: 'Keep one of the two keys.' },
                [k],
              );
            seen.set(name, k);
          }
        }),
      security: z.object(SECURITY_KEYS).strict().optional(),
    })
    .strict();

export type RawDb = z.output<ReturnType<typeof dbSchema>>;

/** `origin`: the file and the key of this block (`from`, `target-database`), for errors about a session variable. */
export function toDbConfig(raw: RawDb, origin?: { file: string; key: string }): DbConfig {
  const session: DbConfig['session'] = {};
  // DM lower-cases session variable names (AdjustTargetDBSessionCfg); MySQL treats them case-insensitively. The
  // schema has refused names that are not identifiers.
  for (const [k, v] of Object.entries(raw.session)) session[sessionVarName(k) ?? k.toLowerCase()] = v;
  const db: DbConfig = { host: raw.host, port: raw.port, user: raw.user, password: raw.password, session };
  if (origin && Object.keys(session).length > 0) db.sessionOrigin = origin;
  const s = raw.security;
  if (s) {
    const tls: TlsConfig = {};
    if (s['ssl-ca']) tls.sslCa = s['ssl-ca'];
    if (s['ssl-cert']) tls.sslCert = s['ssl-cert'];
    if (s['ssl-key']) tls.sslKey = s['ssl-key'];
    if (s['cert-allowed-cn']?.length) tls.certAllowedCn = s['cert-allowed-cn'];
    if (s['ssl-verify-server-cert'] === false) tls.verifyServerCert = false;
    if (Object.keys(tls).length > 0) db.security = tls;
  }
  return db;
}
