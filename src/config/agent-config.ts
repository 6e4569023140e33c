/**
 * dm-agent settings. Each field comes from, in order of precedence: command-line flags, environment
 * (`TSDM_*`), the `--config agent.yaml` file (kebab-case keys), then defaults. Precedence is per field, so a
 * systemd unit can keep most settings in the file and override one with an environment variable.
 */
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { DmError } from '../errors/index.ts';
import { checkConfigFileSize } from './limits.ts';
import { flagProp, NATS_OPTIONS, type NatsOrigins, type NatsSettings } from '../coord/nats-flags.ts';
import { metricsAddrProblem } from '../metrics/addr.ts';
import { redactUrl } from './redact.ts';
import { checkLogSize, LOG_FORMATS, type LogFormat } from './log-settings.ts';
import { issue } from './schema-parts.ts';
import { validate } from './yaml-schema.ts';
import { parseYaml } from './yaml-source.ts';
import { toPlain } from './yaml-values.ts';

export interface AgentConfig {
  /** Member name in the cluster (KV key in dm_members); unique per agent. */
  name: string;
  /** NATS server URL(s), comma-separated. */
  nats: string;
  /** Prefix of the JetStream buckets, so several tsdm clusters can share one NATS. */
  cluster: string;
  /** Relay log, schema tracker state and other local data of this agent. */
  dataDir: string;
  // NATS credentials and TLS: the options dmctl takes too (src/coord/nats-options.ts), checked at start.
  natsUser?: string;
  natsPassword?: string;
  natsPasswordFile?: string;
  natsToken?: string;
  natsTokenFile?: string;
  /** Path of an nkey seed file. */
  natsNkey?: string;
  /** Path of a NATS credentials file (JWT + nkey seed). */
  natsCreds?: string;
  natsTlsCa?: string;
  natsTlsCert?: string;
  natsTlsKey?: string;
  /** Where each NATS option came from (`--nats-creds`, `TSDM_NATS_CREDS`, `agent.yaml key nats-creds`), for messages. */
  natsOrigins?: NatsOrigins;
  /** pino level: trace, debug, info, warn, error, fatal, silent. */
  logLevel: string;
  /** `auto` (text on a terminal, JSON otherwise), `text` or `json`. */
  logFormat: LogFormat;
  /** Log to this file, rotated by size, instead of stderr. */
  logFile?: string;
  /** Size at which the log file rotates (`100m`, `512k`, `1g`). */
  logFileMaxSize: string;
  /** Rotated log files kept. */
  logFileKeep: number;
  /** Replica count of the KV buckets this agent creates: 1 for one nats-server, 3 for a 3-node NATS cluster. */
  replicas: number;
  /** File holding the key that decrypts passwords written by `dmctl encrypt` (never stored in NATS). */
  secretKeyPath?: string;
  /** `HOST:PORT` of /metrics, /healthz and /readyz (src/metrics/server.ts); undefined = not served. */
  metricsAddr?: string;
}

type Field = Exclude<keyof AgentConfig, 'natsOrigins'>;

/** AgentConfig's field of a NATS option: `nats-tls-ca` → natsTlsCa. */
const natsField = (key: string) => flagProp(key) as Field;
const NATS_PATH_FIELDS = NATS_OPTIONS.filter((o) => o.file).map((o) => natsField(o.key));

/** Every field with its environment variable and agent.yaml key. */
export const AGENT_FIELDS: readonly { field: Field; env: string; key: string }[] = [
  { field: 'name', env: 'TSDM_NAME', key: 'name' },
  { field: 'nats', env: 'TSDM_NATS', key: 'nats' },
  { field: 'cluster', env: 'TSDM_CLUSTER', key: 'cluster' },
  { field: 'dataDir', env: 'TSDM_DATA_DIR', key: 'data-dir' },
  ...NATS_OPTIONS.map((o) => ({ field: natsField(o.key), env: o.env, key: o.key })),
  { field: 'logLevel', env: 'TSDM_LOG_LEVEL', key: 'log-level' },
  { field: 'logFormat', env: 'TSDM_LOG_FORMAT', key: 'log-format' },
  { field: 'logFile', env: 'TSDM_LOG_FILE', key: 'log-file' },
  { field: 'logFileMaxSize', env: 'TSDM_LOG_FILE_MAX_SIZE', key: 'log-file-max-size' },
  { field: 'logFileKeep', env: 'TSDM_LOG_FILE_KEEP', key: 'log-file-keep' },
  { field: 'replicas', env: 'TSDM_REPLICAS', key: 'replicas' },
  { field: 'secretKeyPath', env: 'TSDM_SECRET_KEY_PATH', key: 'secret-key-path' },
  { field: 'metricsAddr', env: 'TSDM_METRICS_ADDR', key: 'metrics-addr' },
];

export const AGENT_DEFAULTS = {
  nats: 'nats://127.0.0.1:4222',
  cluster: 'dm',
  logLevel: 'info',
  logFormat: 'auto',
  logFileMaxSize: '100m',
  logFileKeep: 10,
} as const;

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** Why a value is invalid, or undefined. Shared by flags, env and file so all three say the same thing. */
const checks: Partial<Record<Field, (v: string) => string | undefined>> = {
  // Used as a NATS KV key and a directory name: KV keys allow letters, digits, - _ = . and /.
  name: (v) =>
    /^[A-Za-z0-9_-][A-Za-z0-9_.=-]*$/.test(v)
      ? undefined
      : `agent name ${JSON.stringify(v)} may only contain letters, digits, "-", "_", "." and "="`,
  // Used as a JetStream bucket-name prefix: letters, digits, - and _ only.
  cluster: (v) =>
    /^[A-Za-z0-9_-]+$/.test(v)
      ? undefined
      : `cluster name ${JSON.stringify(v)} may only contain letters, digits, "-" and "_"`,
  nats: (v) => {
    for (const u of v.split(',').map((s) => s.trim())) {
      if (u === '') return 'empty NATS URL in the list';
      const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `nats://${u}`;
      // Credentials in the URL (nats://user:pass@host) never reach a message.
      const shown = JSON.stringify(redactUrl(withScheme));
      try {
        const url = new URL(withScheme);
        if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol))
          return `NATS URL ${shown} must use nats://, tls://, ws:// or wss://`;
      } catch {
        return `${shown} is not a NATS URL (e.g. nats://10.0.0.5:4222)`;
      }
    }
    return undefined;
  },
  logLevel: (v) => (LOG_LEVELS.includes(v) ? undefined : `log level must be one of ${LOG_LEVELS.join(', ')}`),
  logFormat: (v) =>
    (LOG_FORMATS as readonly string[]).includes(v) ? undefined : `log format must be one of ${LOG_FORMATS.join(', ')}`,
  logFile: (v) => (v.trim() !== '' ? undefined : 'log file must not be empty'),
  logFileMaxSize: (v) => checkLogSize(v),
  logFileKeep: (v) =>
    /^[1-9][0-9]{0,3}$/.test(v) ? undefined : `log file keep must be a number from 1 to 9999, got ${JSON.stringify(v)}`,
  dataDir: (v) => (v.trim() !== '' ? undefined : 'data dir must not be empty'),
  replicas: (v) =>
    /^[1-5]$/.test(v)
      ? undefined
      : `replicas must be a number from 1 to 5 (JetStream's limit), got ${JSON.stringify(v)}`,
  // Empty = off (the default): a flag or variable can turn off what agent.yaml turned on.
  metricsAddr: (v) => (v === '' ? undefined : metricsAddrProblem(v)),
};

const str = (f: Field) =>
  z.string().superRefine((v, ctx) => {
    const p = checks[f]?.(v);
    if (p) issue(ctx, p);
  });
const fileSchema = z.object(Object.fromEntries(AGENT_FIELDS.map((d) => [d.key, str(d.field).optional()]))).strict();

/** Reads agent.yaml: same YAML/zod error handling as source and task files. Relative paths are relative to the file. */
export function readAgentFile(text: string, file: string): Partial<AgentConfig> {
  const src = parseYaml(text, file);
  const raw = toPlain(src, fileSchema);
  if (raw === undefined) return {}; // an empty (or all-comments) file sets nothing
  const data = validate(src, raw, fileSchema) as Record<string, string | undefined>;
  const out: Partial<AgentConfig> = {};
  for (const d of AGENT_FIELDS) {
    const v = data[d.key];
    if (v === undefined) continue;
    const val =
      d.field === 'dataDir' ||
      d.field === 'secretKeyPath' ||
      d.field === 'logFile' ||
      NATS_PATH_FIELDS.includes(d.field)
        ? resolve(dirname(file), v)
        : v;
    if (d.field === 'replicas' || d.field === 'logFileKeep') out[d.field] = Number(val);
    else if (d.field === 'logFormat') out.logFormat = val as LogFormat;
    else out[d.field] = val;
  }
  return out;
}

/**
 * The agent's configuration. `flags` holds what the command line set (undefined = not given); `file` is the
 * `--config` path if any. Throws DmError BadArguments for a bad flag, ConfigInvalid (key = the variable)
 * for a bad environment value, and the YAML loader's errors for the file.
 */
export function loadAgentConfig(flags: Partial<AgentConfig>, env: NodeJS.ProcessEnv, file?: string): AgentConfig {
  let fromFile: Partial<AgentConfig> = {};
  if (file !== undefined) {
    let text: string;
    checkConfigFileSize(file);
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new DmError('ConfigFileRead', `cannot read agent config: ${(e as Error).message}`, {
        cause: e,
        context: { file },
      });
    }
    fromFile = readAgentFile(text, file);
  }
  const out: Partial<Record<Field, string>> = {};
  const origin: Partial<Record<Field, string>> = {};
  for (const d of AGENT_FIELDS) {
    const f = flags[d.field];
    const flag = f === undefined ? undefined : String(f);
    const envVal = env[d.env];
    let v: string | undefined;
    let from = `--${d.key}`;
    if (flag !== undefined) {
      v = flag;
      const p = checks[d.field]?.(v);
      if (p) throw new DmError('BadArguments', `--${d.key}: ${p}`, { context: { key: `--${d.key}` } });
    } else if (envVal !== undefined && envVal !== '') {
      v = envVal;
      from = d.env;
      const p = checks[d.field]?.(v);
      if (p)
        throw new DmError('ConfigInvalid', `${d.env}: ${p}`, {
          context: { key: d.env },
          suggestion: `Fix or unset the environment variable ${d.env}.`,
        });
    } else {
      const fv = fromFile[d.field];
      v = fv === undefined ? undefined : String(fv);
      from = `${file} key ${d.key}`;
    }
    if (v !== undefined) {
      out[d.field] = v;
      origin[d.field] = from;
    }
  }
  const name = out.name ?? defaultName();
  const cfg: AgentConfig = {
    name,
    nats: out.nats ?? AGENT_DEFAULTS.nats,
    cluster: out.cluster ?? AGENT_DEFAULTS.cluster,
    dataDir: resolve(out.dataDir ?? `./.tsdm-data/${name}`),
    logLevel: out.logLevel ?? AGENT_DEFAULTS.logLevel,
    logFormat: (out.logFormat as LogFormat | undefined) ?? AGENT_DEFAULTS.logFormat,
    logFileMaxSize: out.logFileMaxSize ?? AGENT_DEFAULTS.logFileMaxSize,
    logFileKeep: Number(out.logFileKeep ?? AGENT_DEFAULTS.logFileKeep),
    replicas: Number(out.replicas ?? 1),
  };
  if (out.secretKeyPath !== undefined) cfg.secretKeyPath = resolve(out.secretKeyPath);
  if (out.metricsAddr) cfg.metricsAddr = out.metricsAddr.trim();
  if (out.logFile !== undefined) cfg.logFile = resolve(out.logFile);
  const natsOrigins: NatsOrigins = { servers: origin.nats ?? 'the default --nats' };
  for (const o of NATS_OPTIONS) {
    const f = natsField(o.key);
    const v = out[f];
    if (v === undefined) continue;
    Object.assign(cfg, { [f]: o.file ? resolve(v) : v });
    natsOrigins[o.field] = origin[f]!;
  }
  cfg.natsOrigins = natsOrigins;
  return cfg;
}

/**
 * Which agent.yaml to read. `--config FILE` is explicit: a missing file is an error (ConfigFileRead, exit 2).
 * `--config-if-exists FILE` (what the systemd unit passes for /etc/tsdm/agent.yaml) names a file read when it exists,
 * so an agent with no agent.yaml runs on defaults, flags and TSDM_* variables; anything else than "no such file"
 * (a directory, no permission) is still read and still an error. `--config` wins over it. `note` says what was
 * decided, for the agent's start line.
 */
export function chooseAgentConfigFile(config?: string, ifExists?: string): { file?: string; note: string } {
  if (config !== undefined) return { file: config, note: `config ${config}` };
  if (ifExists === undefined) return { note: 'no config file (flags, environment, defaults)' };
  try {
    statSync(ifExists);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      return { note: `no ${ifExists} (--config-if-exists): flags, environment and defaults` };
  }
  return { file: ifExists, note: `config ${ifExists}` };
}

/** The agent's NATS settings for resolveNatsAuth (src/coord/nats-auth.ts), with where each came from. */
export function agentNatsSettings(cfg: AgentConfig): { settings: NatsSettings; origins: NatsOrigins } {
  const settings: NatsSettings = { servers: cfg.nats };
  for (const o of NATS_OPTIONS) {
    const v = cfg[natsField(o.key)];
    if (typeof v === 'string') settings[o.field] = v;
  }
  return { settings, origins: cfg.natsOrigins ?? {} };
}

/** The host name, made a valid agent name (a FQDN keeps its dots; anything else becomes "-"). */
function defaultName(): string {
  const n = hostname()
    .replace(/[^A-Za-z0-9_.=-]/g, '-')
    .replace(/^[.=]+/, '');
  return n === '' ? 'agent' : n;
}
