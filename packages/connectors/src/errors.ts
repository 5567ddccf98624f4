import { PreflightError, scrubText, type ErrorCode } from '@preflight/core';

const NET: Record<string, ErrorCode> = {
  ECONNREFUSED: 'CONNECTIVITY',
  ECONNRESET: 'CONNECTIVITY',
  EHOSTUNREACH: 'CONNECTIVITY',
  ENETUNREACH: 'CONNECTIVITY',
  ENOTFOUND: 'CONNECTIVITY',
  EAI_AGAIN: 'CONNECTIVITY',
  EPIPE: 'CONNECTIVITY',
  ETIMEDOUT: 'TIMEOUT',
  ESOCKETTIMEDOUT: 'TIMEOUT',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS',
  CERT_HAS_EXPIRED: 'TLS',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS',
  EPROTO: 'TLS',
};

const HINT: Partial<Record<ErrorCode, string>> = {
  CONNECTIVITY: 'check host, port, DNS and firewalls',
  TIMEOUT: 'the source accepted the connection but did not answer in time',
  TLS: 'check the TLS mode and the server certificate',
  AUTH: 'check the user and the secret behind secretRef',
};

/** Maps a socket-level failure to the facade's error codes; undefined when it is not one. */
export function networkError(e: unknown, where: string, secrets: string[] = []): PreflightError | undefined {
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  const code = err?.code ?? err?.cause?.code;
  const mapped = code ? NET[code] : /ssl|tls|certificate/i.test(String(err?.message)) ? 'TLS' : undefined;
  if (!mapped) return undefined;
  const msg = scrubText(`${where}: ${code ?? ''} ${err.message ?? ''}`.replace(/\s+/g, ' ').trim(), secrets);
  return new PreflightError(mapped, `${msg}${HINT[mapped] ? ` (${HINT[mapped]})` : ''}`, { cause: e, retriable: mapped === 'CONNECTIVITY' || mapped === 'TIMEOUT' });
}

export function sourceError(code: ErrorCode, message: string, e: unknown, secrets: string[] = [], retriable = false): PreflightError {
  return new PreflightError(code, scrubText(message, secrets), { cause: e, retriable });
}

export const RETRIABLE_SOURCE_CODES: ErrorCode[] = ['CONNECTIVITY', 'TIMEOUT'];
