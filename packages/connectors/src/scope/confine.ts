import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PreflightError } from '@preflight/core';

function refuse(field: string, value: string, rule: string): PreflightError {
  return new PreflightError('CONFIG', `${field}: "${value.slice(0, 200)}" ${rule}`, {
    retriable: false,
    details: { rule: 'confinement', field },
    issues: [{ field, message: rule, value: value.slice(0, 200) }],
  });
}

/** The real path of `p`, or of its longest existing ancestor with the rest appended. */
async function realpathPrefix(p: string): Promise<string> {
  let head = p;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await realpath(head), ...tail.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const up = dirname(head);
      if (up === head) return p;
      tail.push(head.slice(up.length).replace(/^[/\\]+/, ''));
      head = up;
    }
  }
}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

/** The real path of a root (of its longest existing ancestor, if it is not there yet). */
export function realpathOf(root: string): Promise<string> {
  return realpathPrefix(resolve(root));
}

/**
 * Confines a path a tenant gave to that tenant's root: relative paths are taken from the root, an
 * absolute path must lie inside it, `..` is refused outright, and the check is made on real paths,
 * so a symlink inside the root that points out of it is refused too. Returns the real path, which
 * is the one to open. `rootReal` is the root's real path when the caller already has it.
 */
export async function confine(root: string, field: string, given: string, what: string, rootReal?: Promise<string>): Promise<string> {
  if (given.includes('\0')) throw refuse(field, given.replace(/\0/g, '\\0'), 'must not contain NUL');
  if (given.split(/[/\\]/).includes('..')) throw refuse(field, given, `must not contain ".." (${what} are resolved inside the tenant's root)`);
  const lexical = isAbsolute(given) ? resolve(given) : resolve(root, given);
  if (!inside(resolve(root), lexical)) throw refuse(field, given, `is outside the tenant's ${what} root; give a path relative to it`);
  // Both at once: each is a trip through libuv's thread pool, which 50 concurrent registrations
  // share with the JWT checks.
  const [rootIs, real] = await Promise.all([rootReal ?? realpathOf(root), realpathPrefix(lexical)]);
  if (!inside(rootIs, real)) throw refuse(field, given, `leaves the tenant's ${what} root through a symbolic link`);
  return real;
}

/** For messages: the path as the tenant knows it, relative to its root. */
export function shownPath(root: string, real: string): string {
  return relative(root, real) || '.';
}
