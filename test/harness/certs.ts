import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Test certificates made with openssl: a CA and server certificates it signs with the names a test needs, and an
 * unrelated second CA. Everything lives in one temp dir; nothing here is a secret worth protecting.
 */
export interface TestCerts {
  dir: string;
  ca: string;
  otherCa: string;
  /** Server certificates signed by `ca`: key and cert paths, by name. */
  server: Record<string, { cert: string; key: string }>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): string {
  openssl(
    dir,
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ].concat(['-keyout', `${name}.key`, '-out', `${name}.pem`]),
  );
  return join(dir, `${name}.pem`);
}

/** `servers`: name → { cn, san } where san is an openssl subjectAltName value (`IP:127.0.0.1`, `DNS:x`) or ''. */
export function makeCerts(servers: Record<string, { cn: string; san: string }>): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'tsdm-certs-'));
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  const server: TestCerts['server'] = {};
  for (const [name, { cn, san }] of Object.entries(servers)) {
    openssl(dir, [
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    ]);
    writeFileSync(join(dir, `${name}.ext`), san ? `subjectAltName=${san}\n` : '\n');
    openssl(
      dir,
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-days',
        '2',
      ].concat(['-extfile', `${name}.ext`, '-out', `${name}.pem`]),
    );
    server[name] = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  }
  return { dir, ca, otherCa, server };
}
