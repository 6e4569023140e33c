/**
 * NATS options → the client's ConnectionOptions (src/coord/nats-auth.ts, nats-options.ts, nats-errors.ts): what
 * goes together, files checked before connecting, credentials out of URLs, connect failures as coded errors, and no
 * secret in any message. Certificates come from openssl (test/harness/certs.ts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { createUser } from 'nats-jwt';
import { fmtCreds, encodeUser, createAccount } from 'nats-jwt';
import { resolveNatsAuth, splitUrlCredentials, type NatsAuth } from '../../src/coord/nats-auth.ts';
import { natsConnectError } from '../../src/coord/nats-errors.ts';
import { natsSettingsFrom, type NatsSettings } from '../../src/coord/nats-flags.ts';
import { DmError, Errors } from '../../src/errors/index.ts';
import { makeCerts } from '../harness/certs.ts';

const certs = makeCerts({ ip: { cn: 'nats', san: 'IP:127.0.0.1' }, client: { cn: 'client', san: '' } });
after(() => rmSync(certs.dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(certs.dir, name);
  writeFileSync(p, text);
  return p;
};
const URL1 = 'nats://127.0.0.1:4222';

function fails(s: NatsSettings, code: string, message: RegExp, origins = {}): DmError {
  let caught: unknown;
  try {
    resolveNatsAuth(s, origins);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DmError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.class, 'config');
  assert.match(caught.message, message);
  return caught;
}

test('credentials leave the URL: user:password, a lone token, percent-encoding, no scheme', () => {
  assert.deepEqual(splitUrlCredentials('nats://u:p%40ss@h:4222'), { url: 'nats://h:4222', user: 'u', pass: 'p@ss' });
  assert.deepEqual(splitUrlCredentials('tls://s3cret@h:4222'), { url: 'tls://h:4222', token: 's3cret' });
  assert.deepEqual(splitUrlCredentials(' u:p@h:4222 '), { url: 'h:4222', user: 'u', pass: 'p' });
  assert.deepEqual(splitUrlCredentials('nats://h:4222'), { url: 'nats://h:4222' });
  const a = resolveNatsAuth({ servers: 'nats://u:pw1@a:4222, nats://u:pw1@b:4222' });
  assert.deepEqual(a.servers, ['nats://a:4222', 'nats://b:4222']);
  assert.equal(a.method, 'user "u" (password from the URL)');
  assert.deepEqual(a.options.authenticator?.(), { user: 'u', pass: 'pw1' });
  const t = resolveNatsAuth({ servers: 'nats://tok1@a:4222' });
  assert.deepEqual(t.options.authenticator?.(), { auth_token: 'tok1' });
  const diff = fails({ servers: 'nats://u:pw1@a:4222,nats://u:pw2@b:4222' }, 'TSDM-10003', /hold different/);
  const twice = fails({ servers: 'nats://u:pw1@a:4222', token: 'x' }, 'TSDM-10003', /TSDM_NATS_TOKEN is set too/);
  for (const e of [diff, twice]) assert.ok(!e.message.includes('pw1') && !e.message.includes('pw2'), e.message);
});

test('an open server: no authenticator, no TLS; tls:// asks for TLS with the IP-aware name check', () => {
  const a = resolveNatsAuth({ servers: URL1 });
  assert.deepEqual(a.options, {});
  assert.equal(a.method, 'no credentials');
  const t = resolveNatsAuth({ servers: 'tls://127.0.0.1:4222' });
  assert.equal(t.tls, true);
  assert.equal(typeof (t.options.tls as { checkServerIdentity?: unknown }).checkServerIdentity, 'function');
});

test('each way of authenticating maps to the client authenticator, with a method that names no secret', () => {
  const pw = file('pw', 'filepw\n');
  const u = resolveNatsAuth(
    { servers: URL1, user: 'tsdm', passwordFile: pw },
    { passwordFile: '--nats-password-file' },
  );
  assert.deepEqual(u.options.authenticator?.(), { user: 'tsdm', pass: 'filepw' });
  assert.equal(u.method, `user "tsdm" (password from file ${pw})`);
  const e = resolveNatsAuth({ servers: URL1, user: 'tsdm', password: 'envpw' }, { password: 'TSDM_NATS_PASSWORD' });
  assert.equal(e.method, 'user "tsdm" (password from TSDM_NATS_PASSWORD)');
  const tok = resolveNatsAuth({ servers: URL1, tokenFile: file('tok', 'tk1') });
  assert.deepEqual(tok.options.authenticator?.(), { auth_token: 'tk1' });
  const user = createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  const nk = resolveNatsAuth({ servers: URL1, nkey: file('u.nk', `${seed}\n`) });
  const nonce = 'abc';
  const r = nk.options.authenticator?.(nonce) as { nkey: string; sig: string };
  assert.equal(r.nkey, user.getPublicKey());
  assert.ok(r.sig.length > 0);
  assert.ok(!nk.method.includes(seed));
});

test('a creds file maps to the JWT authenticator; a file that is not one is refused without quoting it', async () => {
  const user = createUser();
  const jwt = await encodeUser('u', user, createAccount());
  const good = resolveNatsAuth({
    servers: URL1,
    creds: file('u.creds', new TextDecoder().decode(fmtCreds(jwt, user))),
  });
  assert.equal((good.options.authenticator?.('n') as { jwt: string }).jwt, jwt);
  const secretish = 'SUAGARBAGEGARBAGE';
  const bad = fails(
    { servers: URL1, creds: file('bad.creds', secretish) },
    'TSDM-10040',
    /is not a NATS credentials file/,
  );
  const nk = fails({ servers: URL1, nkey: file('bad.nk', secretish) }, 'TSDM-10040', /does not hold a user nkey seed/);
  for (const e of [bad, nk]) assert.ok(!e.message.includes(secretish));
});

test('files: missing, a directory, empty, not PEM, a key that is not the certificate’s: NatsFile naming option and file', () => {
  const missing = join(certs.dir, 'nope');
  const e = fails({ servers: URL1, creds: missing }, 'TSDM-10040', /^TSDM_NATS_CREDS: file .*nope does not exist$/, {
    creds: 'TSDM_NATS_CREDS',
  });
  assert.deepEqual(e.context, { key: 'TSDM_NATS_CREDS', file: missing });
  fails({ servers: URL1, nkey: certs.dir }, 'TSDM-10040', /^--nats-nkey: file .* is a directory$/);
  fails({ servers: URL1, user: 'u', passwordFile: file('empty', '\n') }, 'TSDM-10040', /is empty/);
  fails(
    { servers: URL1, tlsCa: certs.server.ip!.key },
    'TSDM-10040',
    /--nats-tls-ca: file .* is not a PEM certificate/,
  );
  const { cert } = certs.server.ip!;
  const { key } = certs.server.client!;
  fails(
    { servers: URL1, tlsCert: cert, tlsKey: key },
    'TSDM-10040',
    /--nats-tls-key: file .* is not the private key of/,
  );
  const ok = resolveNatsAuth({ servers: URL1, tlsCa: certs.ca, tlsCert: certs.server.client!.cert, tlsKey: key });
  assert.deepEqual(
    { ...ok.options.tls, checkServerIdentity: undefined },
    { caFile: certs.ca, certFile: certs.server.client!.cert, keyFile: key, checkServerIdentity: undefined },
  );
});

test('options that do not go together are ConfigInvalid naming where they came from', () => {
  fails({ servers: URL1, password: 'x' }, 'TSDM-10003', /^TSDM_NATS_PASSWORD: a NATS password needs a user/, {
    password: 'TSDM_NATS_PASSWORD',
  });
  fails({ servers: URL1, user: 'u', creds: '/c' }, 'TSDM-10003', /user and creds are both set/);
  fails({ servers: URL1, token: 't', nkey: '/n' }, 'TSDM-10003', /token and nkey are both set/);
  fails({ servers: URL1, user: 'u', password: 'p', passwordFile: '/f' }, 'TSDM-10003', /give the password once/);
  fails({ servers: URL1, tlsCert: '/c' }, 'TSDM-10003', /needs both --nats-tls-cert and --nats-tls-key/);
  fails({ servers: URL1, user: '' }, 'TSDM-10003', /--nats-user: must not be empty/);
});

test('dmctl settings: a flag wins over its variable; secrets come only from the environment', () => {
  const { settings, origins } = natsSettingsFrom(
    URL1,
    '--nats',
    { natsUser: 'flaguser', natsPassword: 'ignored-as-a-flag', natsTlsCa: '/ca' },
    { TSDM_NATS_USER: 'envuser', TSDM_NATS_PASSWORD: 'envpw', TSDM_NATS_TOKEN: '' },
  );
  assert.deepEqual(settings, { servers: URL1, user: 'flaguser', password: 'envpw', tlsCa: '/ca' });
  assert.deepEqual(origins, {
    servers: '--nats',
    user: '--nats-user',
    password: 'TSDM_NATS_PASSWORD',
    tlsCa: '--nats-tls-ca',
  });
});

const auth = (over: Partial<NatsAuth> = {}): NatsAuth => ({
  servers: [URL1],
  display: URL1,
  options: {},
  method: 'user "tsdm" (password from TSDM_NATS_PASSWORD)',
  tls: false,
  ...over,
});

test('connect failures: refused credentials and TLS problems are config errors; the rest stays retryable', () => {
  const refused = natsConnectError({ code: 'AUTHORIZATION_VIOLATION', message: "'Authorization Violation'" }, auth());
  assert.equal(refused.code, Errors.NatsAuthRefused.code);
  assert.equal(refused.message, `NATS at ${URL1} refused user "tsdm" (password from TSDM_NATS_PASSWORD)`);
  const none = natsConnectError({ code: 'AUTHORIZATION_VIOLATION' }, auth({ method: 'no credentials' }));
  assert.match(none.suggestion, /asks for credentials/);
  const untrusted = natsConnectError({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, auth());
  assert.equal(untrusted.code, Errors.NatsTls.code);
  assert.match(untrusted.message, /requires TLS and no --nats-tls-ca is given/);
  const wantsCert = natsConnectError({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }, auth({ tls: true }));
  assert.match(wantsCert.message, /requires a client certificate .* none is given/);
  const name = natsConnectError({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: 'IP: 10.0.0.1 is not in' }, auth());
  assert.match(name.message, /not for the host connected to/);
  const noTls = natsConnectError({ code: 'SERVER_OPT_NA', message: 'tls' }, auth({ tls: true }));
  assert.match(noTls.message, /the server does not offer TLS/);
  const down = natsConnectError({ code: 'CONNECTION_REFUSED' }, auth());
  assert.equal(down.code, Errors.NatsConnect.code);
  assert.equal(down.retryable, true);
  for (const e of [refused, untrusted, wantsCert, name, noTls, down]) assert.equal(e.message.includes('://u:'), false);
});

test('an IP host is checked against the address connected to, not "localhost"', () => {
  const a = resolveNatsAuth({ servers: URL1, tlsCa: certs.ca });
  const check = (a.options.tls as { checkServerIdentity: (h: string, c: PeerCertificate) => Error | undefined })
    .checkServerIdentity;
  const cert = (san: string) => ({ subject: { CN: 'x' }, subjectaltname: san }) as unknown as PeerCertificate;
  const viaSocket = { socket: { remoteAddress: '127.0.0.1' } };
  assert.equal(check.call(viaSocket, 'localhost', cert('IP Address:127.0.0.1')), undefined);
  assert.ok(check.call(viaSocket, 'localhost', cert('DNS:localhost')) instanceof Error);
  // With a server name (a DNS host), that name is what the certificate must hold.
  assert.equal(
    check.call({ servername: 'nats.example', ...viaSocket }, 'nats.example', cert('DNS:nats.example')),
    undefined,
  );
  assert.ok(check.call({ servername: 'nats.example', ...viaSocket }, 'nats.example', cert('IP Address:127.0.0.1')));
});
