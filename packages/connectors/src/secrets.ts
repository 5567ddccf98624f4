import { readFile, stat } from 'node:fs/promises';
import { PreflightError } from '@preflight/core';
import type { SecretProvider, SecretResolution } from './facade.js';

export type SchemeProvider = (path: string, ref: string, signal?: AbortSignal) => Promise<SecretResolution>;

const DAY = 24 * 60 * 60 * 1000;

/** `env:NAME` — the process environment; its rotation age is not observable. */
const envScheme: SchemeProvider = async (name, ref) => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new PreflightError('CONFIG', `secretRef ${ref}: environment variable ${name} is not set`, { retriable: false });
  return { value, ref, scheme: 'env' };
};

/** `file:/path` — a mounted secret file (Kubernetes, Docker); its mtime is its rotation time. */
const fileScheme: SchemeProvider = async (path, ref, signal) => {
  try {
    const [value, st] = await Promise.all([readFile(path, { encoding: 'utf8', ...(signal ? { signal } : {}) }), stat(path)]);
    return { value: value.replace(/\r?\n$/, ''), ref, scheme: 'file', rotatedAt: st.mtime.toISOString(), ageDays: (Date.now() - st.mtimeMs) / DAY };
  } catch (e) {
    throw new PreflightError('CONFIG', `secretRef ${ref}: cannot read the secret file (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e, retriable: false });
  }
};

/**
 * Resolves `secretRef`s by scheme. A vault-style store plugs in with `register('vault', ...)`
 * without touching connectors; values never leave the resolution.
 */
export class SchemeSecretProvider implements SecretProvider {
  private readonly schemes = new Map<string, SchemeProvider>([
    ['env', envScheme],
    ['file', fileScheme],
  ]);

  register(scheme: string, provider: SchemeProvider): this {
    this.schemes.set(scheme, provider);
    return this;
  }

  async resolve(ref: string, signal?: AbortSignal): Promise<SecretResolution> {
    const i = ref.indexOf(':');
    const scheme = i > 0 ? ref.slice(0, i) : '';
    const provider = this.schemes.get(scheme);
    if (!provider) throw new PreflightError('CONFIG', `secretRef "${ref.slice(0, 40)}": unknown scheme "${scheme}"; use ${[...this.schemes.keys()].map((s) => `${s}:`).join(' or ')}`, { retriable: false });
    return provider(ref.slice(i + 1), ref, signal);
  }
}

export const defaultSecretProvider: SecretProvider = new SchemeSecretProvider();
