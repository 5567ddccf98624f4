/**
 * The approval policy hook, declarative: the first rule whose `when` matches an attempt decides
 * who must approve it; no match means the fallback policy auto-approves and names itself in
 * `validated_by`. Rules are data so a security admin can review them without reading code.
 */
export interface ApprovalRule {
  name: string;
  when: { environment?: string[]; pii?: boolean; sourceType?: string[]; breakingChange?: boolean };
  requireRole: string;
  reason: string;
}

export interface ApprovalPolicy {
  rules: ApprovalRule[];
  fallback: string;
}

export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  rules: [
    {
      name: 'pii-in-production',
      when: { environment: ['production', 'prod'], pii: true },
      requireRole: 'security_admin',
      reason: 'the contract has PII or regulated fields and the connector targets production',
    },
    {
      name: 'breaking-change-in-production',
      when: { environment: ['production', 'prod'], breakingChange: true },
      requireRole: 'security_admin',
      reason: 'an update made a breaking contract change (see the changelog) and the connector targets production',
    },
  ],
  fallback: 'auto-approve',
};

export interface PolicySubject {
  environment: string;
  pii: boolean;
  sourceType: string;
  /** The attempt checks an update whose contract changelog has a breaking change. */
  breakingChange?: boolean;
}

export function matchRule(policy: ApprovalPolicy, s: PolicySubject): ApprovalRule | null {
  for (const rule of policy.rules) {
    const w = rule.when;
    if (w.environment && !w.environment.includes(s.environment.toLowerCase())) continue;
    if (w.pii !== undefined && w.pii !== s.pii) continue;
    if (w.sourceType && !w.sourceType.includes(s.sourceType)) continue;
    if (w.breakingChange !== undefined && w.breakingChange !== (s.breakingChange ?? false)) continue;
    return rule;
  }
  return null;
}
