/**
 * What a failed NATS connect means, as a DmError: refused credentials and TLS problems are config errors that say
 * what to give (retrying cannot help), anything else stays NatsConnect (retryable: the server may come back).
 * Messages name the servers without credentials and the way of authenticating, never a secret.
 */
import { DmError } from '../errors/index.ts';
import { UNTRUSTED_CERT_CODES } from '../net/tls-codes.ts';
import type { NatsAuth } from './nats-auth.ts';

/** TLS alerts the server sends when it wants a client certificate (--tlsverify) or refuses the one given. */
const CLIENT_CERT_ALERTS = /ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/;

interface ErrLike {
  code?: string;
  message?: string;
  chainedError?: ErrLike;
}

export function natsConnectError(err: unknown, auth: NatsAuth): DmError {
  const e = (err ?? {}) as ErrLike;
  const codes = [e.code, e.chainedError?.code].filter((c): c is string => typeof c === 'string');
  const has = (p: (c: string) => boolean) => codes.some(p);
  const at = `NATS at ${auth.display}`;
  if (has((c) => c === 'AUTHORIZATION_VIOLATION' || c === 'AUTHENTICATION_EXPIRED'))
    return new DmError(
      'NatsAuthRefused',
      `${at} refused ${auth.method}${has((c) => c === 'AUTHENTICATION_EXPIRED') ? ': the credentials expired' : ''}`,
      {
        cause: err,
        ...(auth.method === 'no credentials'
          ? {
              suggestion:
                "This NATS server asks for credentials: give --nats-user with TSDM_NATS_PASSWORD or --nats-password-file, TSDM_NATS_TOKEN or --nats-token-file, --nats-nkey FILE, or --nats-creds FILE (docs/configuration.md, 'NATS connection').",
            }
          : {}),
      },
    );
  if (has((c) => c === 'ERR_TLS_CERT_ALTNAME_INVALID'))
    return new DmError(
      'NatsTls',
      `${at}: the server's certificate is not for the host connected to (${e.message ?? e.chainedError?.message ?? ''})`,
      {
        cause: err,
        suggestion:
          "Connect with a host name or IP address the NATS server's certificate holds (its subject alternative names), or give the server a certificate for the name in --nats.",
      },
    );
  if (has((c) => UNTRUSTED_CERT_CODES.has(c)))
    return new DmError(
      'NatsTls',
      `${at}: the server's TLS certificate is not trusted (${codes.find((c) => UNTRUSTED_CERT_CODES.has(c))}): ${auth.tls ? 'it is not signed by the CA in --nats-tls-ca' : 'the server requires TLS and no --nats-tls-ca is given'}`,
      {
        cause: err,
        suggestion:
          "Give the CA that signed the NATS server's certificate with --nats-tls-ca FILE (env TSDM_NATS_TLS_CA, agent.yaml nats-tls-ca), and check the certificate's validity dates.",
      },
    );
  if (has((c) => CLIENT_CERT_ALERTS.test(c)))
    return new DmError(
      'NatsTls',
      `${at}: the server requires a client certificate it trusts (nats-server --tlsverify) and ${auth.options.tls && 'certFile' in auth.options.tls ? 'refused the one from --nats-tls-cert' : 'none is given'}`,
      {
        cause: err,
        suggestion:
          'Give a client certificate signed by a CA the NATS server trusts with --nats-tls-cert FILE and --nats-tls-key FILE (env TSDM_NATS_TLS_CERT, TSDM_NATS_TLS_KEY).',
      },
    );
  // nats' NatsError("tls", ServerOptionNotAvailable): TLS was asked for and the server does not offer it.
  if (e.message === 'tls' && has((c) => c === 'SERVER_OPT_NA'))
    return new DmError('NatsTls', `${at}: TLS options are given but the server does not offer TLS`, {
      cause: err,
      suggestion:
        'Start nats-server with TLS (tls { cert_file, key_file }), or remove --nats-tls-ca/--nats-tls-cert and use nats:// if this network path needs no encryption.',
    });
  return new DmError('NatsConnect', `cannot connect to ${at}`, { cause: err });
}
