/** The value at a manifest's dotted config path (`auth.secretRef`), or undefined. */
export function configValue(config: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config);
}
