/**
 * source.yaml (DM's upstream source definition, `dmctl operate-source create source.yaml`) -> SourceConfig.
 * Keys and meaning follow DM's dm/config/source_config.go; see docs/configuration.md.
 */
import { z } from 'zod';
import type { SourceConfig } from './types.ts';
import { isBinlogFilename, isGtidSet, parseGoDuration } from './dm-values.ts';
import { dbSchema, issue, toDbConfig, uint, uint32 } from './schema-parts.ts';
import { applyKeyPolicy } from './unsupported.ts';
import { parseYaml, type ConfigNote } from './yaml-source.ts';
import { toPlain } from './yaml-values.ts';
import { filterSchema } from './task-schema.ts';
import { resolveFilterRule } from './task-config.ts';
import { patternPairKey } from './task-instance.ts';
import { issuesError, validate, type ConfigIssue } from './yaml-schema.ts';

/** DM's MaxSourceIDLength. */
export const MAX_SOURCE_ID_LENGTH = 32;

/** Defaults as DM's newSourceConfig(): purge every hour, no age limit, keep 15 GB free. */
export const PURGE_DEFAULTS = { interval: 3600, expires: 0, remainSpace: 15 } as const;

const sourceSchema = z
  .object({
    'source-id': z.string().min(1).max(MAX_SOURCE_ID_LENGTH),
    flavor: z.enum(['', 'mysql', 'mariadb']).default(''),
    'enable-gtid': z.boolean().default(false),
    'enable-relay': z.boolean().default(false),
    'relay-binlog-name': z.string().default(''),
    'relay-binlog-gtid': z.string().default(''),
    'server-id': uint32().default(0),
    from: dbSchema(3306),
    purge: z
      .object({
        interval: uint().default(PURGE_DEFAULTS.interval),
        expires: uint().default(PURGE_DEFAULTS.expires),
        'remain-space': uint().default(PURGE_DEFAULTS.remainSpace),
      })
      .strict()
      .default({
        interval: PURGE_DEFAULTS.interval,
        expires: PURGE_DEFAULTS.expires,
        'remain-space': PURGE_DEFAULTS.remainSpace,
      }),
    // Accepted without effect or unsupported (unsupported.ts decides which); typed loosely on purpose.
    checker: z
      .object({
        'check-enable': z.boolean().optional(),
        'backoff-rollback': z.string().optional(),
        'backoff-max': z.string().optional(),
        'check-interval': z.string().optional(),
        'backoff-min': z.string().optional(),
        'backoff-jitter': z.boolean().optional(),
        'backoff-factor': z.number().optional(),
      })
      .strict()
      .optional(),
    'relay-dir': z.string().optional(),
    'meta-dir': z.string().optional(),
    charset: z.string().optional(),
    'auto-fix-gtid': z.boolean().optional(),
    enable: z.boolean().optional(),
    tracer: z.record(z.string(), z.unknown()).optional(),
    'case-sensitive': z.boolean().optional(),
    filters: z.array(filterSchema).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s['relay-binlog-name'] !== '' && !isBinlogFilename(s['relay-binlog-name'])) {
      issue(
        ctx,
        `"${s['relay-binlog-name']}" is not a binlog file name (expected base.NNNNNN, e.g. mysql-bin.000001)`,
        {},
        ['relay-binlog-name'],
      );
    }
    // DM checks the checker's backoff even though tsdm does not use it (checker_config.go: backoff-min is always 1s).
    const max = s.checker?.['backoff-max'];
    if (max !== undefined && max !== '') {
      const secs = parseGoDuration(max);
      if (secs === undefined)
        issue(ctx, `"${max}" is not a duration (Go syntax such as "5m")`, {}, ['checker', 'backoff-max']);
      else if (secs < 1)
        issue(
          ctx,
          `\`backoff-max\` value ${max} is less than \`backoff-min\` value 1s: please increase \`backoff-max\``,
          {},
          ['checker', 'backoff-max'],
        );
    }
    const flavor = s.flavor === '' ? undefined : s.flavor;
    if (s['relay-binlog-gtid'] !== '' && !isGtidSet(s['relay-binlog-gtid'], flavor)) {
      issue(ctx, `"${s['relay-binlog-gtid']}" is not a ${flavor ?? 'MySQL or MariaDB'} GTID set`, {}, [
        'relay-binlog-gtid',
      ]);
    }
  });

/** Parses source.yaml; notes list the DM keys accepted without effect. */
export function loadSourceConfig(text: string, file: string): { config: SourceConfig; notes: ConfigNote[] } {
  const src = parseYaml(text, file);
  const raw = toPlain(src, sourceSchema);
  // Unsupported keys first: their message is the useful one even if the same block has other problems.
  const notes = applyKeyPolicy(src, raw, 'source');
  const s = validate(src, raw, sourceSchema);
  const config: SourceConfig = {
    sourceId: s['source-id'],
    enableGtid: s['enable-gtid'],
    enableRelay: s['enable-relay'],
    relayBinlogName: s['relay-binlog-name'],
    relayBinlogGtid: s['relay-binlog-gtid'],
    serverId: s['server-id'],
    from: toDbConfig(s.from, { file, key: 'from' }),
    purge: { interval: s.purge.interval, expires: s.purge.expires, remainSpace: s.purge['remain-space'] },
  };
  if (s.flavor !== '') config.flavor = s.flavor;
  if (s.filters && s.filters.length > 0) {
    // DM (source_config.go) refuses a source whose rules its binlog filter cannot build: unknown event types are
    // errors here, not the task file's dropped-rule note. Names only label the rules (status, plan, errors).
    const issues: ConfigIssue[] = [];
    const ctx = { src, notes, issues, strict: true };
    const rules = s.filters.map((f, i) => resolveFilterRule(`${s['source-id']}.filters[${i}]`, f, ['filters', i], ctx));
    // DM's filter keys rules by their patterns, case-insensitively for a source (its case-sensitive, when true, is
    // refused above): a second rule on the same tables fails NewBinlogEvent ("already exists"), so the source is
    // refused.
    const seen = new Map<string, number>();
    s.filters.forEach((f, i) => {
      const k = patternPairKey({ schemaPattern: f['schema-pattern'], tablePattern: f['table-pattern'] }, false);
      const first = seen.get(k);
      if (first === undefined) seen.set(k, i);
      else
        issues.push({
          name: 'ConfigInvalid',
          path: ['filters', i],
          message: `filters[${i}] has the same schema-pattern and table-pattern as filters[${first}] ("${f['schema-pattern']}", "${f['table-pattern']}"); DM refuses a source with two rules on the same tables`,
          suggestion: 'Merge the two rules into one (its events and sql-pattern lists), or change one of the patterns.',
        });
    });
    if (issues.length > 0) throw issuesError(src, issues);
    config.filters = rules.filter((r) => r !== undefined);
  }
  return { config, notes };
}

export function parseSourceConfig(text: string, file: string): SourceConfig {
  return loadSourceConfig(text, file).config;
}

/** A commented source.yaml to start from (`dmctl operate-source create -p` prints it). */
export function sampleSourceYaml(): string {
  return `# tsdm source: one upstream MySQL/MariaDB server (same keys as DM's source.yaml).
# Create it with: dmctl operate-source create source.yaml

# Unique name of this upstream, at most ${MAX_SOURCE_ID_LENGTH} characters; tasks refer to it.
source-id: mysql-replica-01

# mysql or mariadb; leave empty to detect it when connecting.
flavor: ''

# Track positions by GTID (recommended). MariaDB always has GTIDs; MySQL needs gtid_mode=ON.
enable-gtid: true

# Keep a local relay copy of the binlog (in the agent data dir, LMDB) that all tasks on this source read.
# With false, each task reads the upstream binlog directly.
enable-relay: false
# Where the relay starts when there is no checkpoint yet (empty = the oldest position tasks need).
# relay-binlog-name: 'mysql-bin.000001'
# relay-binlog-gtid: ''

# server-id tsdm uses as a replica of the upstream; 0 = derive one from the source-id.
# Must differ from every server and replica in the upstream's replication topology.
server-id: 0

from:
  host: 127.0.0.1
  port: 3306
  user: dm
  # Plain text or encrypted with \`dmctl encrypt\`; never printed by tsdm.
  password: ''
  # TLS to the upstream (file paths readable by the agent):
  # security:
  #   ssl-ca: /etc/tsdm/ca.pem
  #   ssl-cert: /etc/tsdm/client.pem
  #   ssl-key: /etc/tsdm/client.key
  #   cert-allowed-cn: ["db1"]       # optional: the server certificate's CN must be one of these

# Relay log retention (used when enable-relay is true).
# purge:
#   interval: 3600      # seconds between purge checks
#   expires: 0          # hours to keep relay data (0 = keep until no task needs it)
#   remain-space: 15    # GB of free disk below which the oldest relay data is purged
`;
}
