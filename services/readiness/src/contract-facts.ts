import { parseContract, piiFields } from '@preflight/contracts';

const cache = new Map<string, { id: string | null; version: string | null; pii: boolean }>();

/** Contract id, version and whether it declares PII, parsed once per distinct contract text. */
export function contractFacts(contractYaml: string | null): { id: string | null; version: string | null; pii: boolean } {
  if (!contractYaml) return { id: null, version: null, pii: false };
  let facts = cache.get(contractYaml);
  if (!facts) {
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
