import meow from 'meow';
import { chooseAgentConfigFile, loadAgentConfig } from '../src/config/agent-config.ts';
import { unknownFlagProblem } from '../src/config/cli-flags.ts';
import { NATS_FLAGS, flagProp } from '../src/coord/index.ts';
import { DmError, asDmError } from '../src/errors/index.ts';
import type { Agent } from './agent.ts';
import { VERSION } from './version.ts';
import { type AgentLog, type Logger, openLogger } from './log.ts';
import { serveMetrics } from './metrics-serve.ts';

const help = `
  Usage
    $ dm-agent [flags]

  The tsdm agent: one per host, run by systemd. It joins the cluster through NATS JetStream, takes part in leader
  election, and runs the migration units (check, dump, load, sync) of the sources bound to it.

  Flags (each also from env TSDM_<NAME> or from --config agent.yaml; flags win, then env, then the file)
    --name NAME          agent name, unique in the cluster (default: host name)       env TSDM_NAME
    --nats URL[,URL]     NATS server(s) (default nats://127.0.0.1:4222)                env TSDM_NATS
    --cluster NAME       cluster name: prefix of every KV bucket (default dm)          env TSDM_CLUSTER
    --data-dir DIR       local state (relay log) (default ./.tsdm-data/<name>)         env TSDM_DATA_DIR
    --replicas N         replicas of the KV buckets it creates: 3 in a NATS cluster     env TSDM_REPLICAS
    --secret-key-path F  key file for passwords encrypted by dmctl encrypt              env TSDM_SECRET_KEY_PATH
    --metrics-addr ADDR  serve /metrics, /healthz, /readyz on HOST:PORT or :PORT       env TSDM_METRICS_ADDR
                         (default: off; deploy/agent.yaml sets :8262, DM-worker's port)
    --config FILE        agent.yaml with the same keys in kebab-case (a missing file is an error)
    --config-if-exists F agent.yaml read only when it exists (the systemd unit: /etc/tsdm/agent.yaml);
                         --config wins. Sample with every key: deploy/agent.yaml
    --version            print the version
    --help               this text

  Logs (stderr by default: text on a terminal, one JSON object per line otherwise)
    --log-level LEVEL          trace|debug|info|warn|error|fatal|silent (default info)  env TSDM_LOG_LEVEL
    --log-format FORMAT        auto|text|json (default auto)                            env TSDM_LOG_FORMAT
    --log-file PATH            to PATH, rotated by size (dir/a.log: dir/a.1.log, …)     env TSDM_LOG_FILE
    --log-file-max-size SIZE   size at which it rotates: 512k, 100m, 1g (default 100m)  env TSDM_LOG_FILE_MAX_SIZE
    --log-file-keep N          files kept, the current one included (default 10)        env TSDM_LOG_FILE_KEEP

  NATS credentials and TLS (the same options as dmctl; secrets only from env, agent.yaml or a file, never a flag)
    --nats-user USER           NATS user (password: env TSDM_NATS_PASSWORD or a file)   env TSDM_NATS_USER
    --nats-password-file FILE  file holding the NATS password                           env TSDM_NATS_PASSWORD_FILE
    --nats-token-file FILE     file holding a token (the token itself: TSDM_NATS_TOKEN) env TSDM_NATS_TOKEN_FILE
    --nats-nkey FILE           nkey seed file                                           env TSDM_NATS_NKEY
    --nats-creds FILE          credentials file (user JWT + seed), NATS accounts        env TSDM_NATS_CREDS
    --nats-tls-ca FILE         CA of the NATS server's certificate                      env TSDM_NATS_TLS_CA
    --nats-tls-cert FILE       client certificate, for nats-server --tlsverify          env TSDM_NATS_TLS_CERT
    --nats-tls-key FILE        its private key                                          env TSDM_NATS_TLS_KEY
    Credentials in the URL work too (nats://user:password@host:4222); they are never logged.

  Examples
    $ dm-agent --name agent-1 --nats nats://10.0.0.5:4222 --data-dir /var/lib/tsdm
    $ TSDM_NATS=nats://127.0.0.1:4222 dm-agent --name agent-1

  Stops gracefully on SIGTERM/SIGINT: subtasks reach a safe point, checkpoints are committed, the lease released.
`;

const FLAGS = {
  name: { type: 'string' },
  nats: { type: 'string' },
  cluster: { type: 'string' },
  dataDir: { type: 'string' },
  logLevel: { type: 'string' },
  logFormat: { type: 'string' },
  logFile: { type: 'string' },
  logFileMaxSize: { type: 'string' },
  logFileKeep: { type: 'string' },
  replicas: { type: 'string' },
  secretKeyPath: { type: 'string' },
  metricsAddr: { type: 'string' },
  config: { type: 'string' },
  configIfExists: { type: 'string' },
  // --nats-user, --nats-creds, --nats-tls-ca, …: the options dmctl takes too (src/coord/nats-options.ts).
  ...Object.fromEntries(NATS_FLAGS.map((o) => [flagProp(o.key), { type: 'string' }])),
} as const satisfies Record<string, { type: 'string' }>;

export async function main(argv = process.argv.slice(2)): Promise<number> {
  const bad = unknownFlagProblem(argv, FLAGS, ['help', 'version']);
  if (bad) {
    process.stderr.write(`dm-agent: ${bad}\nRun dm-agent --help.\n`);
    return 2;
  }
  const cli = meow(help, {
    importMeta: import.meta,
    argv,
    version: VERSION,
    allowUnknownFlags: false,
    flags: FLAGS,
  });
  let agent: Agent;
  let logs: AgentLog;
  let log: Logger;
  try {
    const { config, configIfExists, ...flags } = cli.flags;
    const { file, note } = chooseAgentConfigFile(config, configIfExists);
    const cfg = loadAgentConfig(
      Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)),
      process.env,
      file,
    );
    // After the configuration: --log-level, --log-file, … may come from agent.yaml too.
    logs = await openLogger('dm-agent', {
      level: cfg.logLevel,
      format: cfg.logFormat,
      ...(cfg.logFile !== undefined ? { file: cfg.logFile } : {}),
      fileMaxSize: cfg.logFileMaxSize,
      fileKeep: cfg.logFileKeep,
    }).catch((err: unknown) => {
      throw new DmError('ConfigInvalid', `cannot open the log file ${cfg.logFile}: ${String(err)}`, {
        cause: err,
        context: { key: '--log-file' },
        suggestion: 'Point --log-file (TSDM_LOG_FILE, agent.yaml log-file) at a writable path.',
      });
    });
    log = logs.log.child({ agent: cfg.name });
    // Listening first: a taken port is a config error at once, and /readyz says "starting" while the agent joins.
    const probes = cfg.metricsAddr ? await serveMetrics(cfg.name, cfg.metricsAddr, log) : undefined;
    // Loaded only now: --help, --version and a config error answer without loading the agent (NATS, MySQL, units).
    const { Agent } = await import('./agent.ts');
    agent = new Agent(cfg, log, probes);
    log.info({ config: file ?? null }, note);
    try {
      await agent.start();
    } catch (err) {
      // stderr gets the coded error below; a log file says why this start ended too.
      const e = asDmError(err);
      if (cfg.logFile !== undefined) log.fatal({ code: e.code, err: e.message }, 'agent start failed');
      await logs.close();
      throw err;
    }
  } catch (err) {
    const e = asDmError(err);
    process.stderr.write(`dm-agent: ${e.format()}\n`);
    return e instanceof DmError && e.class === 'config' ? 2 : 1;
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (sig: string) => {
      if (stopping) {
        process.exit(1);
      }
      stopping = true;
      log.info({ sig }, 'stopping');
      agent
        .stop()
        .catch((err: unknown) => log.error({ err: String(err) }, 'stop failed'))
        .finally(() => {
          log.info({ sig }, 'stopped');
          void logs.close().finally(resolve);
        });
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
  });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`dm-agent: ${String(err)}\n`);
    process.exit(1);
  },
);
