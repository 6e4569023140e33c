/**
 * The pure parts of TLS verification (agent/db/tls.ts, issue #16 item 2): the peer check against the configured
 * host and cert-allowed-cn, the opt-out and its warning, file errors naming the key and the file, and the
 * `ssl-verify-server-cert` key of the security block. The handshake itself is tested in integration/tls.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { checkPeer, sslOptions, tlsOptOutWarning, wantsTls } from '../../agent/db/tls.ts';
import { makeCerts } from '../harness/certs.ts';
import { loadSourceConfig } from '../../src/config/index.ts';
import { DmError } from '../../src/errors/index.ts';

const peer = (cn: string, san?: string) =>
  ({ subject: { CN: cn }, ...(san ? { subjectaltname: san } : {}) }) as unknown as PeerCertificate;

test('checkPeer: the configured host must be in the certificate, IP and DNS alike', () => {
  const up = { host: '127.0.0.1', side: 'upstream' as const, tls: { sslCa: '/ca.pem' } };
  assert.equal(checkPeer(up, peer('x', 'IP Address:127.0.0.1')), undefined);
  const wrong = checkPeer(up, peer('wrong.example', 'DNS:wrong.example'));
  assert.equal(wrong?.code, 'TSDM-10026');
  assert.match(wrong?.message ?? '', /not for 127\.0\.0\.1/);
  assert.match(wrong?.suggestion ?? '', /from\.security\.ssl-verify-server-cert: false/);
  const dns = { host: 'db.example', side: 'downstream' as const, tls: {} };
  assert.equal(checkPeer(dns, peer('x', 'DNS:db.example, DNS:other')), undefined);
  assert.equal(
    checkPeer({ ...dns, host: 'db.corp.example' }, peer('x', 'DNS:*.corp.example')),
    undefined,
    'a wildcard covers one label',
  );
  assert.equal(checkPeer(dns, peer('x', 'IP Address:127.0.0.1'))?.code, 'TSDM-10026');
  assert.equal(checkPeer(dns, {} as PeerCertificate)?.code, 'TSDM-10025', 'no certificate is not trusted');
});

test('checkPeer: the opt-out skips only the name; cert-allowed-cn is still enforced', () => {
  const off = { host: '127.0.0.1', side: 'downstream' as const, tls: { verifyServerCert: false } };
  assert.equal(checkPeer(off, peer('wrong.example', 'DNS:wrong.example')), undefined);
  const cn = {
    host: '127.0.0.1',
    side: 'downstream' as const,
    tls: { verifyServerCert: false, certAllowedCn: ['db'] },
  };
  const e = checkPeer(cn, peer('wrong.example', 'DNS:wrong.example'));
  assert.equal(e?.code, 'TSDM-10027');
  assert.match(e?.message ?? '', /"wrong\.example" is not in target-database\.security\.cert-allowed-cn \("db"\)/);
  assert.equal(checkPeer(cn, peer('db')), undefined);
});

test('tlsOptOutWarning and wantsTls', () => {
  assert.equal(tlsOptOutWarning({ sslCa: '/ca' }, 'h', 'upstream'), undefined);
  assert.match(
    tlsOptOutWarning({ sslCa: '/ca', verifyServerCert: false }, 'h', 'upstream') ?? '',
    /^from\.security\.ssl-verify-server-cert is false/,
  );
  assert.equal(wantsTls({ verifyServerCert: false }), false);
  assert.equal(wantsTls({ certAllowedCn: ['a'] }), true);
  assert.equal(wantsTls(undefined), false);
});

test('sslOptions: missing, unreadable and wrong files are TlsFile errors naming key and file', () => {
  const c = makeCerts({ s: { cn: 'db', san: 'IP:127.0.0.1' } });
  const ok = sslOptions({ sslCa: c.ca, sslCert: c.server.s!.cert, sslKey: c.server.s!.key }, '127.0.0.1', 'upstream');
  assert.equal(ok?.rejectUnauthorized, true);
  assert.equal(ok?.verifyIdentity, false, "tsdm checks the name itself, mysql2's check would use localhost");
  const expect = (fn: () => unknown, re: RegExp) => {
    assert.throws(fn, (e: unknown) => e instanceof DmError && e.code === 'TSDM-10024' && re.test(e.message));
  };
  const gone = join(c.dir, 'gone.pem');
  expect(
    () => sslOptions({ sslCa: gone }, 'h', 'upstream'),
    new RegExp(`^from\\.security\\.ssl-ca: file ${gone} does not exist`),
  );
  expect(
    () => sslOptions({ sslCa: c.server.s!.key }, 'h', 'downstream'),
    /^target-database\.security\.ssl-ca: file .* is not a PEM certificate/,
  );
  const junk = join(c.dir, 'junk.pem');
  writeFileSync(junk, 'hello');
  expect(
    () => sslOptions({ sslCert: junk, sslKey: c.server.s!.key }, 'h', 'upstream'),
    /ssl-cert: file .*junk\.pem is not a PEM/,
  );
  const otherKey = join(c.dir, 'ca.key');
  expect(
    () => sslOptions({ sslCert: c.server.s!.cert, sslKey: otherKey }, 'h', 'upstream'),
    /ssl-key: file .*ca\.key is not the private key of ssl-cert/,
  );
  expect(() => sslOptions({ sslKey: otherKey }, 'h', 'upstream'), /needs both ssl-cert and ssl-key/);
});

test('source config: ssl-verify-server-cert is read; only false is kept', () => {
  const yaml = (v: string) =>
    `source-id: s1\nfrom:\n  host: h\n  user: u\n  security:\n    ssl-ca: /ca.pem\n    ssl-verify-server-cert: ${v}\n`;
  assert.deepEqual(loadSourceConfig(yaml('false'), 's.yaml').config.from.security, {
    sslCa: '/ca.pem',
    verifyServerCert: false,
  });
  assert.deepEqual(loadSourceConfig(yaml('true'), 's.yaml').config.from.security, { sslCa: '/ca.pem' });
});
