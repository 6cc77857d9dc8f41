// Turns API server errors into the operator's three error classes, with messages that say what to do.
import { StalledError, TransientError } from '../core/errors.ts';

/** An answer outside 2xx: the status code, the body as sent (usually a Status object) and the headers. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code: number;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: number, message: string, body: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

export function statusCodeOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.code;
  // Errors of other clients (the tests' client-node) carry the code alike.
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'number') return error.code;
  return undefined;
}

/** The Status object the API server answered with, when the body is one. */
function statusBody(error: unknown): { message?: unknown; reason?: unknown } | undefined {
  if (!(error instanceof KubeApiError)) return undefined;
  try {
    const body: unknown = JSON.parse(error.body);
    return typeof body === 'object' && body !== null ? body : undefined;
  } catch {
    return undefined;
  }
}

export function bodyMessage(error: unknown): string {
  if (error instanceof KubeApiError && error.body !== '') {
    const message = statusBody(error)?.message;
    return typeof message === 'string' ? message : error.body;
  }
  return error instanceof Error ? error.message : String(error);
}

export function isNotFound(error: unknown): boolean {
  return statusCodeOf(error) === 404;
}

/** A 409 that says the object exists (a create that already happened); a 409 Conflict is not one. */
export function isAlreadyExists(error: unknown): boolean {
  return statusCodeOf(error) === 409 && statusBody(error)?.reason === 'AlreadyExists';
}

/** `what` names the call, e.g. "patch deployments bar/api". */
export function classifyApiError(error: unknown, what: string): Error {
  const code = statusCodeOf(error);
  const message = bodyMessage(error);
  if (code === 403) {
    return new StalledError('Forbidden', `not allowed to ${what}: ${message}. Grant it in the operator's ClusterRole (deploy/rbac)`);
  }
  if (code === 422 || code === 400) return new StalledError('Invalid', `the API server rejected "${what}": ${message}`);
  return new TransientError(`${what} failed${code === undefined ? '' : ` (HTTP ${code})`}: ${message}`, { cause: error, retryAfterMs: code === 429 ? retryAfterMs(error) : undefined });
}

/** The Retry-After of a 429 (seconds), in milliseconds, when the server sent one. */
export function retryAfterMs(error: unknown): number | undefined {
  const headers = typeof error === 'object' && error !== null && 'headers' in error && typeof error.headers === 'object' && error.headers !== null ? error.headers : undefined;
  const entry = headers === undefined ? undefined : Object.entries(headers).find(([k]) => k.toLowerCase() === 'retry-after');
  const seconds = Number(entry?.[1]);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 300) * 1000 : undefined;
}
