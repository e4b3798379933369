import type { IncomingHttpHeaders } from 'node:http';
import type { GrpcMatch, RouteMatch } from '../config/policy.js';
import { isGrpc } from '../core/grpc.js';
import { requestAuthority } from '../core/request-authority.js';

/**
 * A route's match as the router checks it. A `host` header condition stands apart from the others: HTTP/2 carries
 * Host as :authority, so it is read through requestAuthority, and routes without one read headers as before.
 */
export interface CompiledMatch extends RouteMatch {
  /** The header conditions but `host`. */
  readonly headers?: ReadonlyArray<readonly [name: string, value: string]>;
  /** What a `host` condition wants the request's authority to be (more than one only if the file named it twice). */
  readonly host?: readonly string[];
}

export function compileMatch(match: RouteMatch): CompiledMatch {
  if (!match.headers?.some(([name]) => name === 'host')) return match;
  const others = match.headers.filter(([name]) => name !== 'host');
  return {
    ...match,
    headers: others.length > 0 ? others : undefined,
    host: match.headers.filter(([name]) => name === 'host').map(([, value]) => value),
  };
}

interface Candidate<R> {
  readonly route: R;
  readonly match: CompiledMatch;
}

/**
 * First matching route wins, in the order the policy file lists them. Routes are indexed by the first path segment
 * they require (a gRPC route's service is one: its calls go to /<service>/<method>), so a request is checked only
 * against routes that can match it (plus those matching any path, such as prefix "/"): a thousand routes cost about
 * what a few do.
 */
export class Router<R extends { readonly policy: { readonly match: RouteMatch } }> {
  private readonly bySegment = new Map<string, Candidate<R>[]>();
  private readonly anyPath: Candidate<R>[];

  constructor(readonly routes: readonly R[]) {
    const candidates = routes.map((route) => ({ route, match: compileMatch(route.policy.match) }));
    const keys = routes.map(({ policy: { match } }) => (match.grpc ? match.grpc.service : firstSegment(match.path ?? match.pathPrefix ?? '/')));
    this.anyPath = candidates.filter((_, i) => keys[i] === undefined);
    for (const key of new Set(keys)) {
      if (key !== undefined) this.bySegment.set(key, candidates.filter((_, i) => keys[i] === key || keys[i] === undefined));
    }
  }

  match(method: string, path: string, headers: IncomingHttpHeaders): R | undefined {
    const candidates = this.bySegment.get(firstSegment(path) ?? '') ?? this.anyPath;
    for (const { route, match } of candidates) {
      if (matches(match, method, path, headers)) return route;
    }
    return undefined;
  }
}

/**
 * "/api/orders" → "api". Undefined for "/" and for a prefix whose first segment is still open ("/ap" is a whole
 * segment, since prefixes match at segment boundaries, but "/" alone constrains nothing).
 */
function firstSegment(path: string): string | undefined {
  const end = path.indexOf('/', 1);
  const segment = end === -1 ? path.slice(1) : path.slice(1, end);
  return segment === '' ? undefined : segment;
}

/** `path` is the request target without its query string. */
export function matches(match: CompiledMatch, method: string, path: string, headers: IncomingHttpHeaders): boolean {
  if (match.path !== undefined) {
    if (path !== match.path) return false;
  } else if (match.pathPrefix !== undefined && !hasPrefix(path, match.pathPrefix)) {
    return false;
  }
  if (match.grpc && !matchesGrpc(match.grpc, path, headers['content-type'])) return false;
  if (match.methods && !match.methods.has(method)) return false;
  if (match.headers) {
    for (const [name, value] of match.headers) {
      const actual = headers[name];
      if (Array.isArray(actual) ? !actual.includes(value) : actual !== value) return false;
    }
  }
  if (match.host) {
    const authority = requestAuthority(headers);
    for (const value of match.host) if (authority !== value) return false;
  }
  return true;
}

/** "/api" matches "/api", "/api/x" and "/api?q", not "/apix": prefixes end at a path segment. */
function hasPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith('/') || path[prefix.length] === '/';
}

/**
 * A gRPC call (by its content-type) whose path is /<service>/<method> with the route's service and method, where it
 * names them: exactly two non-empty segments. Compared in place, without splitting the path.
 */
function matchesGrpc(grpc: GrpcMatch, path: string, contentType: string | undefined): boolean {
  if (!isGrpc(contentType)) return false;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return false;
  if (grpc.service !== undefined && (slash !== grpc.service.length + 1 || !path.startsWith(grpc.service, 1))) return false;
  return grpc.method === undefined || (path.length - slash - 1 === grpc.method.length && path.endsWith(grpc.method));
}
