// Who may read /metrics: like controller-runtime's secure metrics serving (and kube-rbac-proxy), the bearer
// token is checked with a TokenReview and the user's right to `get` the non-resource URL /metrics with a
// SubjectAccessReview. Decisions are cached briefly, so that a scrape every few seconds costs no API calls.
import { createHash } from 'node:crypto';
import type { AuthenticationApi, AuthorizationApi } from '../kube/rest/api-groups.ts';

export type MetricsDecision = { readonly ok: true } | { readonly ok: false; readonly code: 401 | 403 | 500; readonly message: string };

export interface MetricsAuthorizer {
  authorize(authorizationHeader: string | undefined, nowMs: number): Promise<MetricsDecision>;
}

export interface ReviewApis {
  readonly authentication: Pick<AuthenticationApi, 'createTokenReview'>;
  readonly authorization: Pick<AuthorizationApi, 'createSubjectAccessReview'>;
}

/** How long an answer of the API server is reused; a failed review is never cached. */
const ALLOWED_TTL_MS = 60_000;
const DENIED_TTL_MS = 10_000;
/** Distinct tokens remembered at once: a bound on memory whatever callers send. */
const MAX_CACHED = 256;

export const METRICS_PATH = '/metrics';

export class KubernetesMetricsAuthorizer implements MetricsAuthorizer {
  private readonly apis: ReviewApis;
  private readonly cache = new Map<string, { decision: MetricsDecision; expiresMs: number }>();

  constructor(apis: ReviewApis) {
    this.apis = apis;
  }

  async authorize(authorizationHeader: string | undefined, nowMs: number): Promise<MetricsDecision> {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(authorizationHeader ?? '')?.[1];
    if (token === undefined) return { ok: false, code: 401, message: 'a bearer token is required (Authorization: Bearer <ServiceAccount token>)' };
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.cache.get(key);
    if (cached !== undefined && cached.expiresMs > nowMs) return cached.decision;
    this.cache.delete(key);
    let decision: MetricsDecision;
    try {
      decision = await this.review(token);
    } catch (error) {
      return { ok: false, code: 500, message: `could not review the token: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value ?? '');
    this.cache.set(key, { decision, expiresMs: nowMs + (decision.ok ? ALLOWED_TTL_MS : DENIED_TTL_MS) });
    return decision;
  }

  private async review(token: string): Promise<MetricsDecision> {
    const tokenReview = await this.apis.authentication.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
    const user = tokenReview.status?.user;
    if (tokenReview.status?.authenticated !== true || user?.username === undefined) return { ok: false, code: 401, message: 'the token is not valid' };
    const access = await this.apis.authorization.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: user.username,
          ...(user.uid === undefined ? {} : { uid: user.uid }),
          ...(user.groups === undefined ? {} : { groups: user.groups }),
          ...(user.extra === undefined ? {} : { extra: user.extra }),
          nonResourceAttributes: { path: METRICS_PATH, verb: 'get' },
        },
      },
    });
    if (access.status?.allowed !== true) return { ok: false, code: 403, message: `${user.username} may not get ${METRICS_PATH} (bind the ClusterRole istio-upgrade-operator-metrics-reader)` };
    return { ok: true };
  }
}

/** For a loopback-only listener (local runs, tests), where only this host can connect. */
export const ALLOW_ALL: MetricsAuthorizer = { authorize: () => Promise.resolve({ ok: true }) };
