import type { IncomingHttpHeaders } from 'node:http';
import type { RouteMatch } from '../config/policy.js';

/** First matching route wins, in the order the policy file lists them. */
export class Router<R extends { readonly policy: { readonly match: RouteMatch } }> {
  constructor(readonly routes: readonly R[]) {}

  match(method: string, path: string, headers: IncomingHttpHeaders): R | undefined {
    for (const route of this.routes) {
      if (matches(route.policy.match, method, path, headers)) return route;
    }
    return undefined;
  }
}

/** `path` is the request target without its query string. */
export function matches(match: RouteMatch, method: string, path: string, headers: IncomingHttpHeaders): boolean {
  if (match.path !== undefined) {
    if (path !== match.path) return false;
  } else if (match.pathPrefix !== undefined && !hasPrefix(path, match.pathPrefix)) {
    return false;
  }
  if (match.methods && !match.methods.has(method)) return false;
  if (match.headers) {
    for (const [name, value] of match.headers) {
      const actual = headers[name];
      if (Array.isArray(actual) ? !actual.includes(value) : actual !== value) return false;
    }
  }
  return true;
}

/** "/api" matches "/api", "/api/x" and "/api?q", not "/apix": prefixes end at a path segment. */
function hasPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith('/') || path[prefix.length] === '/';
}
