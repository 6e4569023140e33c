import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import {
  checkServerIdentity,
  connect as tlsConnect,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
} from 'node:tls';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions } from 'mysql2';
import type { TlsConfig } from '../../src/config/types.ts';
import { DmError } from '../../src/errors/index.ts';
import { UNTRUSTED_CERT_CODES } from '../../src/net/tls-codes.ts';

/**
 * TLS to upstream and downstream servers (issue #16 item 2). mysql2 can check the server's name only for DNS hosts
 * and, for an IP host, checks against "localhost" (it sends no server name and Node falls back to that), so its
 * identity check stays off and tsdm checks the peer certificate itself, during the handshake, before any credential
 * is sent: the certificate must name the configured host (DNS or IP SAN, tls.checkServerIdentity) unless
 * `ssl-verify-server-cert: false`, and its subject CN must be in `cert-allowed-cn` when that is set. The chain is
 * always verified against `ssl-ca` (rejectUnauthorized). Every mysql2 connection built from connectionOptions goes
 * through this check, zongji's binlog connections included (they share the options' `ssl` object).
 */

/** Where the security block was written, for errors that name the key and file. */
export type TlsSide = 'upstream' | 'downstream';

const CHECK = Symbol('tsdm.tls.check');

interface TlsCheck {
  host: string;
  side: TlsSide;
  tls: TlsConfig;
  /** Built once per set of files (sslOptions caches the options). */
  context?: SecureContext;
}

type SslOptions = Exclude<ConnectionOptions['ssl'], string | undefined> & { [CHECK]?: TlsCheck };

function blockKey(side: TlsSide): string {
  return side === 'upstream' ? 'from.security' : 'target-database.security';
}

function fileLabel(side: TlsSide): string {
  return side === 'upstream' ? 'the source file (then `dmctl operate-source update`)' : 'the task file';
}

/** True when the block asks for TLS at all. */
export function wantsTls(t: TlsConfig | undefined): t is TlsConfig {
  return !!t && !!(t.sslCa || t.sslCert || t.sslKey || t.certAllowedCn?.length);
}

function readTlsFile(side: TlsSide, key: 'ssl-ca' | 'ssl-cert' | 'ssl-key', path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const why =
      (err as { code?: string }).code === 'ENOENT'
        ? 'does not exist'
        : `cannot be read (${(err as { code?: string }).code ?? 'error'})`;
    throw new DmError('TlsFile', `${blockKey(side)}.${key}: file ${path} ${why}`, {
      cause: err,
      context: { key: `${blockKey(side)}.${key}`, file: path },
      suggestion: `Point ${blockKey(side)}.${key} in ${fileLabel(side)} at a PEM file the agent can read, on every agent host.`,
    });
  }
}

/** The warning for a block that turned the name check off (check-task and start-task print it; the agent emits it as a process warning). */
export function tlsOptOutWarning(t: TlsConfig | undefined, host: string, side: TlsSide): string | undefined {
  if (!wantsTls(t) || t.verifyServerCert !== false) return undefined;
  return `${blockKey(side)}.ssl-verify-server-cert is false: the ${side} server's certificate is not checked against ${host}; any server holding a certificate from the trusted CA can pose as it and receive the password. Remove the key once the certificate names the host.`;
}

/** Checked options by file contents: one secure context per distinct set of files (not one per connection). */
const cache = new Map<string, SslOptions>();

/**
 * mysql2 `ssl` options for a security block, or undefined when the block asks for no TLS. Throws TlsFile naming the
 * key and file when a file is missing, unreadable or not PEM of the right kind (a key that does not match its
 * certificate included). Files are read at every call, so a renewed certificate is used by the next connection.
 */
export function sslOptions(t: TlsConfig | undefined, host: string, side: TlsSide): SslOptions | undefined {
  if (!wantsTls(t)) return undefined;
  const ca = t.sslCa ? readTlsFile(side, 'ssl-ca', t.sslCa) : undefined;
  const cert = t.sslCert ? readTlsFile(side, 'ssl-cert', t.sslCert) : undefined;
  const key = t.sslKey ? readTlsFile(side, 'ssl-key', t.sslKey) : undefined;
  // A digest, not the contents: the cache key holds no copy of the private key.
  const digest = createHash('sha256');
  for (const b of [ca, cert, key]) digest.update(b ?? '').update('\0');
  const id = JSON.stringify([host, side, t, digest.digest('hex')]);
  const hit = cache.get(id);
  if (hit) return hit;
  // Each file alone first, so that the error names the file that is wrong; then together (key matches cert).
  // (createSecureContext ignores a CA file without a certificate, so each is parsed as one.)
  const parts: [string, string | undefined, Buffer | undefined][] = [
    ['ssl-ca', t.sslCa, ca],
    ['ssl-cert', t.sslCert, cert],
  ];
  for (const [k, path, pem] of parts) {
    if (!path || !pem) continue;
    try {
      new X509Certificate(pem);
      createSecureContext(k === 'ssl-ca' ? { ca: pem } : { cert: pem });
    } catch (err) {
      throw badFile(side, k, path, 'is not a PEM certificate', err);
    }
  }
  if (!cert !== !key) {
    const [k, path] = cert ? ['ssl-cert', t.sslCert ?? ''] : ['ssl-key', t.sslKey ?? ''];
    throw badFile(side, k, path, 'needs both ssl-cert and ssl-key (a client certificate and its key)', undefined);
  }
  if (cert && key) {
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      throw badFile(side, 'ssl-key', t.sslKey ?? '', 'is not the private key of ssl-cert', err);
    }
  }
  const ssl: SslOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: true,
    // tsdm checks the name itself (checkPeer): mysql2's own check uses "localhost" for an IP host.
    verifyIdentity: false,
    [CHECK]: { host, side, tls: t, context: createSecureContext({ ca, cert, key }) },
  };
  const optOut = tlsOptOutWarning(t, host, side);
  if (optOut) process.emitWarning(optOut, { code: 'TSDM_TLS_NO_NAME_CHECK' }); // once per set of files (cache below)
  if (cache.size > 100) cache.clear();
  cache.set(id, ssl);
  return ssl;
}

function badFile(side: TlsSide, k: string, path: string, what: string, err: unknown): DmError {
  const detail = (err as { message?: string } | undefined)?.message ?? '';
  return new DmError('TlsFile', `${blockKey(side)}.${k}: file ${path} ${what}${detail ? ` (${detail})` : ''}`, {
    cause: err,
    context: { key: `${blockKey(side)}.${k}`, file: path },
    suggestion: `Point ${blockKey(side)}.${k} in ${fileLabel(side)} at the right PEM file.`,
  });
}

/**
 * What is wrong with the server's certificate for this block, or undefined when it is acceptable. Pure: the unit
 * tests call it with certificates openssl made.
 */
export function checkPeer(c: TlsCheck, peer: PeerCertificate | undefined): DmError | undefined {
  const b = blockKey(c.side);
  if (!peer || Object.keys(peer).length === 0)
    return new DmError('TlsServerUntrusted', `${c.side} ${c.host}: the server presented no certificate`, {
      context: { key: b },
    });
  const cn = typeof peer.subject?.CN === 'string' ? peer.subject.CN : undefined;
  if (c.tls.verifyServerCert !== false) {
    const bad = checkServerIdentity(c.host, peer);
    if (bad)
      return new DmError(
        'TlsServerName',
        `${c.side} ${c.host}: the server's certificate is not for ${c.host} (${bad.message}; names in it: ${peer.subjectaltname ?? `CN=${cn ?? '?'}`})`,
        { context: { key: `${b}` }, suggestion: nameSuggestion(c) },
      );
  }
  const allowed = c.tls.certAllowedCn;
  if (allowed?.length && (cn === undefined || !allowed.includes(cn)))
    return new DmError(
      'TlsCommonName',
      `${c.side} ${c.host}: the server certificate's common name ${cn === undefined ? '(none)' : JSON.stringify(cn)} is not in ${b}.cert-allowed-cn (${allowed.map((a) => JSON.stringify(a)).join(', ')})`,
      { context: { key: `${b}.cert-allowed-cn` } },
    );
  return undefined;
}

function nameSuggestion(c: TlsCheck): string {
  return `Connect with a host name the certificate holds (its DNS or IP subject alternative names), or issue the server a certificate for ${c.host}. Only if the network path is trusted: set ${blockKey(c.side)}.ssl-verify-server-cert: false in ${fileLabel(c.side)}.`;
}

function handshakeError(c: TlsCheck, err: { code?: string; message?: string }): DmError | undefined {
  if (!err.code || !UNTRUSTED_CERT_CODES.has(err.code)) return undefined;
  const b = blockKey(c.side);
  const ca = c.tls.sslCa;
  return new DmError(
    'TlsServerUntrusted',
    `${c.side} ${c.host}: the server's certificate is not trusted (${err.code}: ${err.message ?? ''})${ca ? `: it is not signed by the CA in ${b}.ssl-ca ${ca}` : ' by the system CAs (no ssl-ca set)'}`,
    {
      cause: err,
      context: ca ? { key: `${b}.ssl-ca`, file: ca } : { key: b },
      suggestion: ca
        ? `Set ${b}.ssl-ca in ${fileLabel(c.side)} to the CA that signed the server's certificate (or its chain), and check the certificate's validity dates.`
        : `Set ${b}.ssl-ca in ${fileLabel(c.side)} to the CA that signed the server's certificate.`,
    },
  );
}

/** An error carrying the DmError through mysql2, which overwrites `code` of the error it is given. */
interface CarriedError extends Error {
  tsdm?: DmError;
}

/**
 * The DmError of a TLS failure of a mysql2 connection, if it is one: what tsdm's check attached during the handshake,
 * or TlsNotOffered when the server does not offer TLS at all (mysql2 marks that fatal, which would read as a
 * retryable connection error). `side` names the block for the latter.
 */
export function tlsDmError(err: unknown, side: TlsSide = 'upstream'): DmError | undefined {
  const e = err as (CarriedError & { code?: string }) | undefined;
  if (e?.tsdm instanceof DmError) return e.tsdm;
  if (e?.code === 'HANDSHAKE_NO_SSL_SUPPORT')
    return new DmError(
      'TlsNotOffered',
      `${blockKey(side)} asks for TLS but the ${side} server does not offer it (it runs without ssl-cert/ssl-key)`,
      {
        cause: err,
        context: { key: blockKey(side) },
        suggestion: `Start the ${side} server with TLS (ssl_cert, ssl_key, ssl_ca in its my.cnf), or remove ${blockKey(side)} from ${fileLabel(side)} if this network path needs no encryption.`,
      },
    );
  return undefined;
}

interface CoreConnectionLike {
  config: { ssl?: SslOptions | false };
  stream: Duplex;
  packetParser: { execute(data: Buffer): void };
  _handleNetworkError(err: Error): void;
  startTLS(onSecure: (err?: Error) => void): void;
}

function carry(dm: DmError): CarriedError {
  const e: CarriedError = new Error(dm.message);
  e.tsdm = dm;
  return e;
}

let installed = false;

/**
 * Replaces mysql2's Connection.prototype.startTLS once, for connections whose `ssl` carries tsdm's check (and only
 * those; others keep mysql2's): the same upgrade of the socket mysql2 does, with tsdm's check as the TLS
 * checkServerIdentity, so a wrong certificate fails the handshake before mysql2 sends any credential. No TLS session
 * is resumed (mysql2 would resume one cached from a connection tsdm refused, and a resumed session shows no
 * certificate to check). zongji uses the same mysql2 module, so its connections are covered too.
 */
export function installTlsCheck(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  // mysql2's Connection class (zongji's and the promise API's connections are instances); startTLS is its
  // undocumented handshake hook, called once the server accepted the SSL request and before credentials are sent.
  const Base = (require('mysql2') as { Connection: { prototype: CoreConnectionLike } }).Connection;
  const orig = Base.prototype.startTLS;
  Base.prototype.startTLS = function (this: CoreConnectionLike, onSecure: (err?: Error) => void): void {
    const c = this.config.ssl ? this.config.ssl[CHECK] : undefined;
    if (!c) {
      orig.call(this, onSecure);
      return;
    }
    let established = false;
    this.stream.removeAllListeners('data');
    const secure = tlsConnect(
      {
        socket: this.stream,
        secureContext: c.context,
        rejectUnauthorized: true,
        // SNI carries DNS names only (RFC 6066); the check below gets the configured host either way.
        ...(isIP(c.host) ? {} : { servername: c.host }),
        checkServerIdentity: (_host: string, cert: PeerCertificate) => {
          const dm = checkPeer(c, cert);
          return dm ? carry(dm) : undefined;
        },
      },
      () => {
        established = true;
        onSecure();
      },
    );
    secure.on('error', (err: Error) => {
      if (established) {
        this._handleNetworkError(err);
        return;
      }
      const dm = tlsDmError(err) ?? handshakeError(c, err as { code?: string; message?: string });
      onSecure(dm ? carry(dm) : err);
    });
    secure.on('data', (data: Buffer) => this.packetParser.execute(data));
    this.stream = secure;
  };
}
