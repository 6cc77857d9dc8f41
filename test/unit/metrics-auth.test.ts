// Who may read /metrics: the TokenReview and SubjectAccessReview the authorizer sends, what each answer
// becomes, and that answers are reused briefly (a scrape every few seconds costs no API call).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import { KubernetesMetricsAuthorizer, type ReviewApis } from '../../src/runtime/metrics-auth.ts';

interface Reviews {
  tokens: string[];
  access: V1SubjectAccessReview[];
}

function apis(users: Record<string, { allowed: boolean; groups?: string[] }>, fail = false): ReviewApis & { reviews: Reviews } {
  const reviews: Reviews = { tokens: [], access: [] };
  return {
    reviews,
    authentication: {
      createTokenReview: ({ body }: { body: V1TokenReview }) => {
        if (fail) return Promise.reject(new Error('connection refused'));
        const token = body.spec.token ?? '';
        reviews.tokens.push(token);
        const user = users[token];
        return Promise.resolve({ spec: body.spec, status: user === undefined ? { authenticated: false } : { authenticated: true, user: { username: `system:serviceaccount:monitoring:${token}`, uid: `uid-${token}`, groups: user.groups ?? [] } } });
      },
    } as unknown as ReviewApis['authentication'],
    authorization: {
      createSubjectAccessReview: ({ body }: { body: V1SubjectAccessReview }) => {
        reviews.access.push(body);
        const token = body.spec.user?.split(':').at(-1) ?? '';
        return Promise.resolve({ spec: body.spec, status: { allowed: users[token]?.allowed ?? false } });
      },
    } as unknown as ReviewApis['authorization'],
  };
}

describe('/metrics authorization', () => {
  it('no bearer token: 401 without asking the API server', async () => {
    const fake = apis({});
    const authorizer = new KubernetesMetricsAuthorizer(fake);
    for (const header of [undefined, '', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      const decision = await authorizer.authorize(header, 0);
      assert.deepEqual(decision.ok ? 200 : decision.code, 401, String(header));
    }
    assert.deepEqual(fake.reviews.tokens, []);
  });

  it('a token the API server does not authenticate: 401', async () => {
    const decision = await new KubernetesMetricsAuthorizer(apis({})).authorize('Bearer forged', 0);
    assert.equal(decision.ok ? 200 : decision.code, 401);
  });

  it('an authenticated user without get on /metrics: 403 naming the ClusterRole to bind', async () => {
    const fake = apis({ prom: { allowed: false, groups: ['system:serviceaccounts'] } });
    const decision = await new KubernetesMetricsAuthorizer(fake).authorize('Bearer prom', 0);
    assert.ok(!decision.ok);
    assert.equal(decision.code, 403);
    assert.match(decision.message, /may not get \/metrics .*istio-upgrade-operator-metrics-reader/);
    const spec = fake.reviews.access[0]?.spec;
    assert.deepEqual(spec?.nonResourceAttributes, { path: '/metrics', verb: 'get' });
    assert.deepEqual(spec.groups, ['system:serviceaccounts'], 'the groups of the token are passed on');
    assert.equal(spec.uid, 'uid-prom');
  });

  it('an allowed user: ok, and the answer is reused for a minute, a refusal for 10 s', async () => {
    const fake = apis({ prom: { allowed: true }, other: { allowed: false } });
    const authorizer = new KubernetesMetricsAuthorizer(fake);
    assert.equal((await authorizer.authorize('Bearer prom', 0)).ok, true);
    assert.equal((await authorizer.authorize('bearer prom', 59_000)).ok, true);
    assert.equal(fake.reviews.tokens.length, 1, 'cached');
    assert.equal((await authorizer.authorize('Bearer prom', 61_000)).ok, true);
    assert.equal(fake.reviews.tokens.length, 2, 'reviewed again after a minute');
    await authorizer.authorize('Bearer other', 0);
    await authorizer.authorize('Bearer other', 9_000);
    await authorizer.authorize('Bearer other', 11_000);
    assert.equal(fake.reviews.tokens.filter((t) => t === 'other').length, 2);
  });

  it('the API server cannot be asked: 500, and nothing is cached', async () => {
    const authorizer = new KubernetesMetricsAuthorizer(apis({ prom: { allowed: true } }, true));
    const decision = await authorizer.authorize('Bearer prom', 0);
    assert.ok(!decision.ok);
    assert.equal(decision.code, 500);
    assert.match(decision.message, /could not review the token: connection refused/);
  });

  it('remembers a bounded number of tokens', async () => {
    const users = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`t${i}`, { allowed: true }]));
    const fake = apis(users);
    const authorizer = new KubernetesMetricsAuthorizer(fake);
    for (let i = 0; i < 300; i++) await authorizer.authorize(`Bearer t${i}`, 0);
    await authorizer.authorize('Bearer t299', 1);
    await authorizer.authorize('Bearer t0', 1);
    assert.equal(fake.reviews.tokens.length, 301, 't299 still cached, t0 evicted');
  });
});
