import type { Logger } from '@preflight/core';
import { parseContract, piiFields } from '@preflight/contracts';

const cache = new Map<string, { id: string | null; version: string | null; pii: boolean }>();
let parsed = 0;

/**
 * Contract id, version and whether it declares PII, parsed once per distinct contract text: the
 * fallback for a handshake written before it carried the contract facts (decide runs on every
 * tick, hence the memo). Each parse is counted and said at debug.
 */
export function contractFacts(contractYaml: string | null, log?: Pick<Logger, 'debug'>): { id: string | null; version: string | null; pii: boolean } {
  if (!contractYaml) return { id: null, version: null, pii: false };
  let facts = cache.get(contractYaml);
  if (!facts) {
    parsed++;
    log?.debug({ contractFactsFallbacks: parsed }, 'handshake carries no contractFacts: parsing its contract');
    try {
      const c = parseContract(contractYaml);
      facts = { id: c.id, version: c.version, pii: piiFields(c).length > 0 };
    } catch {
      // An invalid contract already failed the schema check; readiness only needs to not crash.
      facts = { id: null, version: null, pii: false };
    }
    if (cache.size > 1000) cache.clear();
    cache.set(contractYaml, facts);
  }
  return facts;
}

/** How many contracts this process parsed because a handshake carried no facts. */
export function contractFactsFallbacks(): number {
  return parsed;
}
