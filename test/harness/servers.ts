/**
 * The servers the integration tests and `npm run demo` start privately: checked before anything starts, so a fresh
 * machine gets them installed (root or passwordless sudo, Debian/Ubuntu: scripts/install-servers.sh, the script
 * .ci/run uses) or one message with the command to run, never a stack trace from deep inside a test.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { locateBinary, SERVER_DIRS, serverSearchDirs } from './processes.ts';

export const SERVER_BINARIES = ['mariadbd', 'mariadb-install-db', 'nats-server'] as const;
/** Exit code of `npm test` / `npm run demo` when a server is missing and could not be installed. */
export const MISSING_SERVERS_EXIT = 3;
export const INSTALL_SCRIPT = 'scripts/install-servers.sh';

const script = fileURLToPath(new URL(`../../${INSTALL_SCRIPT}`, import.meta.url));

export function missingServers(env: NodeJS.ProcessEnv = process.env): string[] {
  const dirs = serverSearchDirs(env);
  return SERVER_BINARIES.filter((b) => locateBinary(b, dirs) === undefined);
}

/** May this process install packages: apt-get in PATH, and root or `sudo -n` that works. */
function canInstall(env: NodeJS.ProcessEnv): boolean {
  const path = (env.PATH ?? '').split(':').filter(Boolean);
  if (!locateBinary('apt-get', path) || !locateBinary('bash', path)) return false;
  if (process.getuid?.() === 0) return true;
  if (!locateBinary('sudo', path)) return false;
  return spawnSync('sudo', ['-n', 'true'], { env, stdio: 'ignore' }).status === 0;
}

/** The message for missing servers: what, where it looked, and the one command that installs them. */
export function missingServersMessage(who: string, missing: readonly string[], env = process.env): string {
  const where = env.TSDM_SERVER_PATH
    ? `TSDM_SERVER_PATH (${env.TSDM_SERVER_PATH})`
    : `PATH and ${SERVER_DIRS.join(', ')}`;
  return [
    `${who}: ${missing.join(', ')} not found (looked in ${where}).`,
    'The integration tests and the demo start their own private MariaDB and NATS servers from these binaries.',
    'Install them (Debian/Ubuntu: mariadb-server, mariadb-client, nats-server; no system service is started) with:',
    '',
    `    sudo bash ${INSTALL_SCRIPT}`,
    '',
    `then run ${who} again. Elsewhere, install MariaDB and nats-server and set TSDM_SERVER_PATH to their folders.`,
  ].join('\n');
}

/**
 * Returns when mariadbd, mariadb-install-db and nats-server are there, installing them first when this process may
 * (root or passwordless sudo, apt-get); otherwise prints missingServersMessage and exits MISSING_SERVERS_EXIT.
 */
export function ensureServers(who: string, env: NodeJS.ProcessEnv = process.env): void {
  let missing = missingServers(env);
  if (missing.length === 0) return;
  if (canInstall(env)) {
    process.stderr.write(`${who}: ${missing.join(', ')} missing; installing them with ${INSTALL_SCRIPT}…\n`);
    spawnSync('bash', [script], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    missing = missingServers(env);
    if (missing.length === 0) return;
  }
  process.stderr.write(`${missingServersMessage(who, missing, env)}\n`);
  process.exit(MISSING_SERVERS_EXIT);
}
