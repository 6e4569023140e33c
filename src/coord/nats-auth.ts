/**
 * NATS options (nats-options.ts) → the nats client's ConnectionOptions, in one place for dm-agent, dmctl and the
 * dashboard. Authentication uses the client's own authenticators (user/password, token, nkey, creds = JWT), TLS its
 * own `tls` options (caFile, certFile, keyFile: re-read at every reconnect, so renewed files are picked up).
 *
 * Every file is read and checked here first, so a missing or wrong one is a config error naming the option and the
 * file, not a connection failure later. Credentials in a URL (`nats://user:pass@host`, `nats://token@host`) become
 * the matching authenticator and leave the URL: the servers handed to the client, and every message, carry none.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { checkServerIdentity, createSecureContext, type PeerCertificate } from 'node:tls';
import {
  credsAuthenticator,
  nkeyAuthenticator,
  nkeys,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type TlsOptions,
} from 'nats';
import { DmError } from '../errors/index.ts';
import type { NatsField, NatsOrigins, NatsSettings } from './nats-flags.ts';
import { checkNatsSettings, optionName } from './nats-options.ts';

export interface NatsAuth {
  /** Server URLs without credentials. */
  servers: string[];
  /** The same, comma-joined: what messages show. */
  display: string;
  /** `authenticator` and `tls` for connect() (ConnectionOptions fields); empty for an open server. */
  options: { authenticator?: Authenticator; tls?: TlsOptions };
  /** How it authenticates, for messages: `user "tsdm" (password from TSDM_NATS_PASSWORD)`; never a secret. */
  method: string;
  /** Whether any TLS option (CA, client certificate, tls:// URL) was given. */
  tls: boolean;
}

/** An open server on the given URLs: what tests and tools without options use. */
export function openNats(servers: string | string[]): NatsAuth {
  const list = (Array.isArray(servers) ? servers : servers.split(',')).map((s) => s.trim());
  return { servers: list, display: list.join(','), options: {}, method: 'no credentials', tls: false };
}

interface UrlCreds {
  url: string;
  user?: string;
  pass?: string;
  token?: string;
}

/** `scheme://userinfo@rest` → the URL without userinfo, and the user/password or token it held. */
export function splitUrlCredentials(u: string): UrlCreds {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)?([^/@\s]*)@(.*)$/i.exec(u.trim());
  if (!m) return { url: u.trim() };
  const url = `${m[1] ?? ''}${m[3]}`;
  const info = m[2] ?? '';
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const colon = info.indexOf(':');
  // NATS's convention (nats CLI, other clients): `user:pass@` is a user and password, a lone `token@` a token.
  if (colon < 0) return info === '' ? { url } : { url, token: dec(info) };
  return { url, user: dec(info.slice(0, colon)), pass: dec(info.slice(colon + 1)) };
}

function fileError(where: string, path: string, what: string, cause?: unknown): DmError {
  return new DmError('NatsFile', `${where}: file ${path} ${what}`, {
    context: { key: where, file: path },
    ...(cause === undefined ? {} : { cause }),
  });
}

function readOption(where: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const what =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EISDIR'
          ? 'is a directory'
          : `cannot be read (${code ?? 'error'})`;
    throw fileError(where, path, what, err);
  }
}

/** A password or token file: its text without the final newline an editor or `echo` adds. */
function readSecretFile(where: string, path: string): string {
  const text = readOption(where, path)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw fileError(where, path, 'is empty');
  return text;
}

/** Throws unless `text` is a user nkey seed; the message never quotes the file. */
function checkSeed(where: string, path: string, text: string, what: string): void {
  let ok = false;
  try {
    ok = nkeys.fromSeed(new TextEncoder().encode(text)).getPublicKey().startsWith('U');
  } catch {
    ok = false;
  }
  if (!ok) throw fileError(where, path, `does not hold ${what}`);
}

/** The two blocks of a credentials file, as nats' credsAuthenticator reads them. */
function parseCreds(text: string): { jwt: string; seed: string } | undefined {
  const re = /\s*(?:(?:-{3,}[^\n]*-{3,}\n)(.+)(?:\n\s*-{3,}[^\n]*-{3,}\n))/gi;
  const jwt = re.exec(text)?.[1]?.trim();
  const seed = re.exec(text)?.[1]?.trim();
  return jwt && seed ? { jwt, seed } : undefined;
}

/**
 * Reads the file on every (re)connect, so that a renewed credentials file or seed is used without a restart; keeps
 * the last good contents if the file cannot be read then (the connection may still be accepted with them).
 */
function fileSource(path: string, first: Buffer): () => Uint8Array {
  let last = first;
  return () => {
    try {
      last = readFileSync(path);
    } catch {
      /* keep the last good contents */
    }
    return last;
  };
}

function checkPem(where: string, path: string, kind: 'ca' | 'cert' | 'key'): Buffer {
  const pem = readOption(where, path);
  try {
    if (kind === 'key') createPrivateKey(pem);
    else {
      new X509Certificate(pem);
      createSecureContext(kind === 'ca' ? { ca: pem } : { cert: pem });
    }
  } catch (err) {
    throw fileError(where, path, kind === 'key' ? 'is not a PEM private key' : 'is not a PEM certificate', err);
  }
  return pem;
}

/**
 * nats gives Node no server name for an IP host (its tlsName is '' then), so Node would check the certificate
 * against "localhost": it refuses a correct `IP:10.0.0.5` certificate and accepts any certificate for localhost.
 * Node calls this as a method of the connect options, whose `socket` is the plain socket being upgraded: without a
 * server name, check against the address actually connected to.
 */
function checkIdentity(this: unknown, host: string, cert: PeerCertificate): Error | undefined {
  const o = this as { servername?: string; socket?: { remoteAddress?: string } } | undefined;
  const peer = o?.servername ? undefined : o?.socket?.remoteAddress;
  return checkServerIdentity(peer ? peer.replace(/^::ffff:/, '') : host, cert);
}

function tlsOptions(s: NatsSettings, where: (f: NatsField) => string): TlsOptions {
  if (s.tlsCa) checkPem(where('tlsCa'), s.tlsCa, 'ca');
  if (s.tlsCert && s.tlsKey) {
    const cert = checkPem(where('tlsCert'), s.tlsCert, 'cert');
    const key = checkPem(where('tlsKey'), s.tlsKey, 'key');
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw fileError(where('tlsKey'), s.tlsKey, `is not the private key of ${s.tlsCert}`, err);
    }
  }
  // checkServerIdentity is Node's tls option: nats passes its `tls` object through to tls.connect.
  return {
    ...(s.tlsCa ? { caFile: s.tlsCa } : {}),
    ...(s.tlsCert ? { certFile: s.tlsCert } : {}),
    ...(s.tlsKey ? { keyFile: s.tlsKey } : {}),
    checkServerIdentity: checkIdentity,
  } as TlsOptions;
}

/**
 * Checks the settings and reads their files. Throws ConfigInvalid for options that do not go together and NatsFile
 * for a file that is missing, unreadable or not what its option names; messages name the option as it was given
 * (`origins`) and never hold a secret.
 */
export function resolveNatsAuth(settings: NatsSettings, origins: NatsOrigins = {}): NatsAuth {
  checkNatsSettings(settings, origins);
  const where = (f: NatsField) => origins[f] ?? optionName(f);
  const parts = settings.servers.split(',').map((u) => splitUrlCredentials(u));
  const servers = parts.map((p) => p.url);
  const display = servers.join(',');
  const s: NatsSettings = { ...settings };
  const inUrl = parts.filter((p) => p.user !== undefined || p.token !== undefined);
  if (inUrl.length > 0) {
    const first = inUrl[0]!;
    if (inUrl.some((p) => p.user !== first.user || p.pass !== first.pass || p.token !== first.token))
      throw new DmError(
        'ConfigInvalid',
        `${origins.servers ?? '--nats'}: the URLs ${display} hold different credentials`,
        {
          context: { key: origins.servers ?? '--nats' },
        },
      );
    const explicit = (['user', 'password', 'passwordFile', 'token', 'tokenFile', 'nkey', 'creds'] as const).find(
      (f) => s[f] !== undefined,
    );
    if (explicit)
      throw new DmError(
        'ConfigInvalid',
        `${origins.servers ?? '--nats'}: the URL holds credentials and ${where(explicit)} is set too; give them once`,
        { context: { key: origins.servers ?? '--nats' } },
      );
    if (first.user !== undefined) Object.assign(s, { user: first.user, password: first.pass ?? '' });
    else s.token = first.token;
  }
  const urlSaid = inUrl.length > 0 ? 'the URL' : undefined;
  let authenticator: Authenticator | undefined;
  let method = 'no credentials';
  if (s.user !== undefined) {
    const pass = s.passwordFile ? readSecretFile(where('passwordFile'), s.passwordFile) : (s.password ?? '');
    authenticator = usernamePasswordAuthenticator(s.user, pass);
    const from = s.passwordFile
      ? `file ${s.passwordFile}`
      : s.password !== undefined
        ? (urlSaid ?? where('password'))
        : undefined;
    method = `user ${JSON.stringify(s.user)} (${from ? `password from ${from}` : 'no password'})`;
  } else if (s.token !== undefined || s.tokenFile !== undefined) {
    const token = s.tokenFile ? readSecretFile(where('tokenFile'), s.tokenFile) : s.token!;
    authenticator = tokenAuthenticator(token);
    method = `a token from ${s.tokenFile ? `file ${s.tokenFile}` : (urlSaid ?? where('token'))}`;
  } else if (s.nkey !== undefined) {
    const buf = readOption(where('nkey'), s.nkey);
    checkSeed(where('nkey'), s.nkey, buf.toString('utf8').trim(), 'a user nkey seed (a line starting with SU)');
    const src = fileSource(s.nkey, buf);
    authenticator = nkeyAuthenticator(() => new TextEncoder().encode(new TextDecoder().decode(src()).trim()));
    method = `the nkey seed in ${s.nkey}`;
  } else if (s.creds !== undefined) {
    const buf = readOption(where('creds'), s.creds);
    const c = parseCreds(buf.toString('utf8'));
    if (!c || c.jwt.split('.').length !== 3)
      throw fileError(where('creds'), s.creds, 'is not a NATS credentials file (a user JWT and an nkey seed block)');
    checkSeed(where('creds'), s.creds, c.seed, 'a user nkey seed in its seed block');
    authenticator = credsAuthenticator(fileSource(s.creds, buf));
    method = `the credentials file ${s.creds}`;
  }
  const tlsUrl = servers.some((u) => /^tls:\/\//i.test(u));
  const tls = tlsUrl || s.tlsCa !== undefined || s.tlsCert !== undefined;
  return {
    servers,
    display,
    options: { ...(authenticator ? { authenticator } : {}), ...(tls ? { tls: tlsOptions(s, where) } : {}) },
    method,
    tls,
  };
}
