/**
 * Issue #16 item 3 / acceptance 3: NATS authentication and TLS for every client. One nats-server per way of
 * authenticating (test/harness/nats-auth.ts: a user with a password and an nkey user in an account, a token, an
 * operator/account/user JWT chain, mutual TLS with `verify: true`), all started at once; against each, with the
 * same options: dm-agent joins (list-member shows it), dmctl answers, and the dashboard (dmctl on a terminal, in a
 * private tmux) connects and shows the agent. Wrong or missing credentials fail with a coded error. No password,
 * token, seed or JWT appears in anything captured (agent logs, dmctl output, the screen).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startNats, type NatsInstance } from '../harness/index.ts';
import {
  authFiles,
  NATS_AUTH_MODES,
  natsAuthSetup,
  type AuthFiles,
  type ClientAuth,
  type NatsAuthMode,
  type NatsAuthSetup,
} from '../harness/nats-auth.ts';
import { dmctl, startAgent } from '../harness/tsdm.ts';
import { main } from '../../tui/main.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOCKET = `tsdm-natsauth-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });

let files: AuthFiles;
const servers = new Map<NatsAuthMode, { setup: NatsAuthSetup; nats: NatsInstance }>();

before(async () => {
  files = authFiles();
  await Promise.all(
    NATS_AUTH_MODES.map(async (mode) => {
      const setup = await natsAuthSetup(mode, files);
      servers.set(mode, {
        setup,
        nats: await startNats({ name: `auth-${mode}`, config: setup.config, client: setup.client }),
      });
    }),
  );
});

after(async () => {
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    /* every session has ended, and the server with them */
  }
  await Promise.allSettled([...servers.values()].map((s) => s.nats.stop()));
});

function noSecret(setup: NatsAuthSetup, what: string, text: string): void {
  for (const s of setup.secrets) assert.ok(!text.includes(s), `${what} shows a ${setup.mode} secret:\n${text}`);
}

/** `dmctl` on a terminal: the dashboard, with the mode's credentials; resolves with the screen once `re` shows. */
async function dashboard(mode: NatsAuthMode, url: string, auth: ClientAuth, re: RegExp): Promise<string> {
  const env = Object.entries(auth.env).map(([k, v]) => `${k}=${v}`);
  const cmd = [
    'env',
    '-u',
    'CI',
    'TERM=xterm-256color',
    'TSDM_REQUIRE_DIST=1',
    ...env,
    process.execPath,
    join(ROOT, 'bin', 'dmctl.js'),
  ];
  tmux('new-session', '-d', '-s', mode, '-x', '120', '-y', '30', [...cmd, '--nats', url, ...auth.flags].join(' '));
  const t0 = Date.now();
  let screen = '';
  try {
    while (Date.now() - t0 < 20_000) {
      screen = tmux('capture-pane', '-p', '-t', mode);
      if (re.test(screen)) return screen;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the dashboard (${mode}) did not show ${re} within 20 s; screen:\n${screen}`);
  } finally {
    tmux('kill-session', '-t', mode);
  }
}

const WANT: Record<NatsAuthMode, { code: string; message: RegExp }> = {
  userpass: { code: 'TSDM-10041', message: /refused user "tsdm" \(password from file .*wrong\.pw\)/ },
  token: { code: 'TSDM-10041', message: /refused a token from file .*wrong\.token/ },
  nkey: { code: 'TSDM-10041', message: /refused the nkey seed in .*other\.nk/ },
  creds: { code: 'TSDM-10041', message: /refused the credentials file .*stranger\.creds/ },
  mtls: { code: 'TSDM-10042', message: /requires a client certificate it trusts \(nats-server --tlsverify\) and none/ },
};

interface Ran {
  code: number;
  out: string;
  err: string;
}

/**
 * dmctl's main() in this process: the same parsing, options and connect path as the binary, without a process start
 * (the failing cases are many and cheap this way). Flags only: the environment of this process holds no TSDM_NATS_*.
 */
async function ctl(url: string, args: string[]): Promise<Ran> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        add(String(c));
        cb();
      },
    });
  const code = await main(
    ['--nats', url, ...args],
    sink((s) => (out += s)),
    sink((s) => (err += s)),
  );
  return { code, out, err };
}

async function checkMode(mode: NatsAuthMode): Promise<void> {
  const { setup, nats } = servers.get(mode)!;
  const name = `agent-${mode}`;
  const agent = startAgent({ name, nats: nats.url, env: setup.good.env, args: setup.good.flags });
  try {
    await agent.ready(60_000);
    const r = await dmctl(nats.url, ['list-member', '--json', ...setup.good.flags], { env: setup.good.env });
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.deepEqual(
      r.json.members.map((m: { name: string }) => m.name),
      [name],
    );
    noSecret(setup, 'dmctl list-member', r.stdout + r.stderr);
    const screen = await dashboard(mode, nats.url, setup.good, new RegExp(`NATS connected .* leader ${name}`));
    noSecret(setup, 'the dashboard', screen);

    // Wrong credentials, then none: exit 2 with the coded error.
    const bad = await ctl(nats.url, ['list-member', '--json', ...setup.wrong]);
    assert.equal(bad.code, 2, bad.out + bad.err);
    const e = JSON.parse(bad.out).error;
    assert.equal(e.code, WANT[mode].code, bad.out);
    assert.match(e.message, WANT[mode].message);
    noSecret(setup, 'dmctl with wrong credentials', bad.out + bad.err);
    const none = await ctl(nats.url, ['list-member']);
    assert.equal(none.code, 2, none.out + none.err);
    assert.match(
      none.err,
      mode === 'mtls' ? /TSDM-10042.*no --nats-tls-ca/ : /TSDM-10041.*refused no credentials[\s\S]*--nats-creds/,
    );
  } finally {
    await agent.stop();
    noSecret(setup, 'the agent log', agent.log());
  }
}

// Two at a time: each starts node processes, and this box has two cores.
test('every way of authenticating: dm-agent joins, dmctl answers, the dashboard connects; wrong or no credentials are coded errors', {
  concurrency: 2,
  timeout: 240_000,
}, async (t) => {
  await Promise.all(NATS_AUTH_MODES.map((mode) => t.test(mode, () => checkMode(mode))));
});

test('an agent with credentials the server refuses exits 2 with the coded error, without joining', async () => {
  for (const mode of ['userpass', 'mtls'] as const) {
    const { setup, nats } = servers.get(mode)!;
    const a = startAgent({ name: `intruder-${mode}`, nats: nats.url, args: setup.wrong });
    assert.equal(await a.exited(), 2, a.log());
    assert.match(a.log(), new RegExp(`dm-agent: \\[${WANT[mode].code}\\] .*${WANT[mode].message.source}`));
    noSecret(setup, 'the refused agent log', a.log());
  }
});

test('credentials in the URL work and never show; a wrong one in the URL is refused without printing it', async () => {
  const { setup, nats } = servers.get('userpass')!;
  const [pw, wrongPw] = setup.secrets as [string, string];
  const r = await ctl(`nats://tsdm:${encodeURIComponent(pw)}@127.0.0.1:${nats.port}`, ['list-member', '--json']);
  assert.equal(r.code, 0, r.out + r.err);
  const bad = await ctl(`nats://tsdm:${wrongPw}@127.0.0.1:${nats.port}`, ['list-member']);
  assert.equal(bad.code, 2);
  assert.match(
    bad.err,
    /\[TSDM-10041\] NATS at nats:\/\/127\.0\.0\.1:\d+ refused user "tsdm" \(password from the URL\)/,
  );
  noSecret(setup, 'dmctl with a URL password', r.out + r.err + bad.out + bad.err);
  const { setup: tok, nats: tn } = servers.get('token')!;
  const t = await ctl(`nats://${tok.secrets[0]}@127.0.0.1:${tn.port}`, ['list-member', '--json']);
  assert.equal(t.code, 0, t.out + t.err);
  noSecret(tok, 'dmctl with a URL token', t.out + t.err);
});

test('a missing credentials file and options that do not go together are config errors before connecting', async () => {
  const { nats } = servers.get('creds')!;
  const missing = join(files.dir, 'nope.creds');
  const r = await dmctl(nats.url, ['list-member', '--json'], { env: { TSDM_NATS_CREDS: missing } });
  assert.equal(r.code, 2);
  assert.equal(r.json.error.code, 'TSDM-10040');
  assert.equal(r.json.error.message, `TSDM_NATS_CREDS: file ${missing} does not exist`);
  const a = startAgent({ name: 'agent-nofile', nats: nats.url, args: ['--nats-nkey', missing] });
  assert.equal(await a.exited(), 2);
  assert.match(a.log(), new RegExp(`\\[TSDM-10040\\].*--nats-nkey: file ${missing} does not exist`));
  const both = await ctl(nats.url, ['list-member', '--nats-user', 'u', '--nats-creds', missing]);
  assert.equal(both.code, 2);
  assert.match(both.err, /choose one way to authenticate to NATS: user and creds are both set/);
});
