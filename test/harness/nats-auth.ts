/**
 * nats-server set-ups that ask clients to authenticate, for the NATS auth tests (issue #16 item 3): a user with a
 * password and an nkey user in a non-default account, a token, an operator with an account and a user given as JWTs
 * (made here with nats-jwt and nkeys.js, as `nsc` would), and mutual TLS (`verify: true`, i.e. `--tlsverify`).
 *
 * Each set-up gives the server's config text, what the harness itself connects with, and what dm-agent and dmctl are
 * given (flags and environment), a wrong variant of the same, and the secrets that must never appear in an output.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
} from 'nats-jwt';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type ConnectionOptions,
} from 'nats';
import { makeCerts, type TestCerts } from './certs.ts';
import { resolveNatsAuth } from '../../src/coord/nats-auth.ts';

export type NatsAuthMode = 'userpass' | 'token' | 'nkey' | 'creds' | 'mtls';
export const NATS_AUTH_MODES: readonly NatsAuthMode[] = ['userpass', 'token', 'nkey', 'creds', 'mtls'];

/** What a tsdm process (dm-agent or dmctl) gets: extra flags and environment variables. */
export interface ClientAuth {
  flags: string[];
  env: Record<string, string>;
}

export interface NatsAuthSetup {
  mode: NatsAuthMode;
  /** nats-server config text, for startNats({ config }). */
  config: string;
  /** How the harness connects to it (startNats({ client }), Coord in tests). */
  client: Partial<ConnectionOptions>;
  /** The right credentials for dm-agent and dmctl. */
  good: ClientAuth;
  /** Credentials the server refuses, as flags only (no environment: tests run dmctl's main() in-process). */
  wrong: string[];
  /** Strings that must appear in no output: passwords, tokens, seeds, JWTs (the wrong ones too). */
  secrets: string[];
}

/** Where set-ups write their files (creds, seeds, password files); one temp dir per test file. */
export interface AuthFiles {
  dir: string;
  certs: TestCerts;
}

export function authFiles(): AuthFiles {
  const certs = makeCerts({
    nats: { cn: 'tsdm-nats', san: 'IP:127.0.0.1' },
    client: { cn: 'tsdm-client', san: '' },
  });
  return { dir: certs.dir, certs };
}

const JS_ACCOUNT = 'jetstream: enabled';

function write(f: AuthFiles, name: string, text: string | Uint8Array): string {
  const p = join(f.dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** Account TSDM with a password user and an nkey user: JetStream in a non-default account, as in production. */
function accountsConfig(users: string): string {
  return `accounts {\n  TSDM {\n    ${JS_ACCOUNT}\n    users: [\n${users}\n    ]\n  }\n}\n`;
}

export async function natsAuthSetup(mode: NatsAuthMode, f: AuthFiles): Promise<NatsAuthSetup> {
  switch (mode) {
    case 'userpass': {
      const pw = 'Nats-Pw-7f3a91';
      const wrongPw = 'Wrong-Pw-2c8e55';
      return {
        mode,
        config: accountsConfig(`      { user: tsdm, password: "${pw}" }`),
        client: { authenticator: usernamePasswordAuthenticator('tsdm', pw) },
        good: { flags: [], env: { TSDM_NATS_USER: 'tsdm', TSDM_NATS_PASSWORD: pw } },
        // The password through a file this time, so both ways are exercised.
        wrong: ['--nats-user', 'tsdm', '--nats-password-file', write(f, 'wrong.pw', `${wrongPw}\n`)],
        secrets: [pw, wrongPw],
      };
    }
    case 'token': {
      const token = 'tok-5d1e0b7c9a';
      const wrongToken = 'tok-wrong-44aa09';
      return {
        mode,
        config: `authorization {\n  token: "${token}"\n}\n`,
        client: { authenticator: tokenAuthenticator(token) },
        good: { flags: [], env: { TSDM_NATS_TOKEN: token } },
        wrong: ['--nats-token-file', write(f, 'wrong.token', wrongToken)],
        secrets: [token, wrongToken],
      };
    }
    case 'nkey': {
      const user = createUser();
      const other = createUser();
      const seed = new TextDecoder().decode(user.getSeed());
      const otherSeed = new TextDecoder().decode(other.getSeed());
      return {
        mode,
        config: accountsConfig(`      { nkey: ${user.getPublicKey()} }`),
        client: { authenticator: nkeyAuthenticator(user.getSeed()) },
        good: { flags: ['--nats-nkey', write(f, 'user.nk', `${seed}\n`)], env: {} },
        wrong: ['--nats-nkey', write(f, 'other.nk', otherSeed)],
        secrets: [seed, otherSeed],
      };
    }
    case 'creds': {
      // Operator → account (JetStream allowed) → user, the chain `nsc` builds; the server trusts the operator and
      // preloads the account JWTs (resolver MEMORY). A system account is required for JetStream in operator mode.
      const op = createOperator();
      const sys = createAccount();
      const acct = createAccount();
      const operatorJwt = await encodeOperator('tsdm-op', op, { system_account: sys.getPublicKey() });
      // Unlimited, as `nsc add account` with JetStream enabled: a claim without `conn` allows no connection at all.
      const limits = {
        subs: -1,
        data: -1,
        payload: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        conn: -1,
        leaf: -1,
        disk_storage: -1,
        mem_storage: -1,
        streams: -1,
        consumer: -1,
      };
      const sysJwt = await encodeAccount('SYS', sys, {}, { signer: op });
      const acctJwt = await encodeAccount('TSDM', acct, { limits }, { signer: op });
      const user = createUser();
      const userJwt = await encodeUser('tsdm', user, acct);
      const creds = fmtCreds(userJwt, user);
      // A user of another account the server does not know: its credentials are well formed but refused.
      const stranger = createUser();
      const strangerJwt = await encodeUser('stranger', stranger, createAccount());
      const seed = new TextDecoder().decode(user.getSeed());
      return {
        mode,
        config: [
          `operator: ${operatorJwt}`,
          `system_account: ${sys.getPublicKey()}`,
          'resolver: MEMORY',
          `resolver_preload: {\n  ${sys.getPublicKey()}: ${sysJwt}\n  ${acct.getPublicKey()}: ${acctJwt}\n}`,
          '',
        ].join('\n'),
        client: { authenticator: credsAuthenticator(creds) },
        good: { flags: [], env: { TSDM_NATS_CREDS: write(f, 'user.creds', creds) } },
        wrong: ['--nats-creds', write(f, 'stranger.creds', fmtCreds(strangerJwt, stranger))],
        secrets: [seed, userJwt, new TextDecoder().decode(stranger.getSeed()), strangerJwt],
      };
    }
    case 'mtls': {
      const { ca, server } = f.certs;
      const nats = server.nats!;
      const client = server.client!;
      return {
        mode,
        config: `tls {\n  cert_file: "${nats.cert}"\n  key_file: "${nats.key}"\n  ca_file: "${ca}"\n  verify: true\n}\n`,
        // tsdm's own mapping: nats alone would check an IP host's certificate against "localhost".
        client: resolveNatsAuth({ servers: 'nats://127.0.0.1', tlsCa: ca, tlsCert: client.cert, tlsKey: client.key })
          .options,
        good: {
          flags: ['--nats-tls-ca', ca, '--nats-tls-cert', client.cert],
          env: { TSDM_NATS_TLS_KEY: client.key },
        },
        // The CA but no client certificate: the server asks for one (--tlsverify).
        wrong: ['--nats-tls-ca', ca],
        secrets: [],
      };
    }
  }
}
