import type { SeededUser } from './fixture.js';
import { keepAliveClient, type KeepAliveClient } from './keepalive-client.js';
import type { Target } from './load.js';
import { percentile } from './stats.js';

/** One trial: logout-all on A, B polled until it refuses the old access token. */
export interface LatencyTrial {
  /** From A's logout-all answer arriving to B's first refusal arriving, ms; ≤ 0 when B refused first. */
  fromAnswerMs: number;
  /** From the logout-all request being sent to B's first refusal arriving, ms. */
  fromSentMs: number;
  /** How long A took to answer the logout-all, ms. */
  logoutAllMs: number;
  /** B's /me requests in the trial, the refusing one included. */
  polls: number;
}

export interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

export interface RevocationLatency {
  /** `two processes` (A and B, PostgreSQL) or `one process` (PGlite: A is B). */
  instances: 'two processes' | 'one process';
  trials: number;
  completed: LatencyTrial[];
  /** Trials that went wrong: B refused the token before logout-all, answered something else, or never refused. */
  failures: string[];
  fromAnswer?: Distribution;
  fromSent?: Distribution;
  logoutAll?: Distribution;
  /** Trials in which B refused before A's answer arrived (counted as 0 ms from the answer). */
  refusedBeforeAnswer: number;
}

/** A trial gives up on B after this long: the token was never refused (a failure, not a slow trial). */
const GIVE_UP_MS = 10_000;

const distribution = (values: number[]): Distribution | undefined => {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
};

/** One request at a time on one kept-alive connection; resolves with the status, body and when the answer arrived. */
function asker(client: KeepAliveClient) {
  return async (target: Omit<Target, 'connection'>, headers: Record<string, string>) => {
    let answer: { status: number; body: string; at: number } | undefined;
    await client.run(
      { ...target, connection: () => ({ next: () => ({ headers }), onResponse: (status, body) => void (answer = { status, body, at: performance.now() }) }) },
      1,
    );
    return answer!;
  };
}

/**
 * After logout-all on instance A, how soon instance B refuses the access token it accepted a
 * moment before. Per trial (one fresh seeded user each): B answers /me 200 with the user's
 * token; the logout-all is sent to A and, from that moment, B's /me is polled back to back on
 * a kept-alive connection until it answers 401 token_revoked. The latency runs from A's answer
 * (the moment a client knows it signed out) to B's first refusal; also from the request sent.
 * With one process (PGlite) A and B are the same server.
 */
export async function revocationLatency(a: { baseUrl: string }, b: { baseUrl: string }, users: SeededUser[], instances: RevocationLatency['instances']): Promise<RevocationLatency> {
  const onA = keepAliveClient(a.baseUrl, 1);
  const onB = keepAliveClient(b.baseUrl, 1);
  const askA = asker(onA);
  const askB = asker(onB);
  const me = { method: 'GET' as const, path: '/me' };
  const completed: LatencyTrial[] = [];
  const failures: string[] = [];
  let refusedBeforeAnswer = 0;
  try {
    for (const [i, user] of users.entries()) {
      const headers = { authorization: `Bearer ${user.sessions[0]!.accessToken}` };
      const before = await askB(me, headers);
      if (before.status !== 200) {
        failures.push(`trial ${i + 1}: B answered ${before.status} before the logout-all: ${before.body.slice(0, 200)}`);
        continue;
      }
      const sent = performance.now();
      const logoutAll = askA({ method: 'POST', path: '/auth/logout-all' }, headers);
      let refusal: { status: number; body: string; at: number } | undefined;
      let polls = 0;
      while (performance.now() - sent < GIVE_UP_MS) {
        const answer = await askB(me, headers);
        polls++;
        if (answer.status === 200) continue;
        refusal = answer;
        break;
      }
      const answered = await logoutAll;
      if (answered.status !== 200) {
        failures.push(`trial ${i + 1}: logout-all answered ${answered.status}: ${answered.body.slice(0, 200)}`);
        continue;
      }
      if (!refusal) {
        failures.push(`trial ${i + 1}: B still accepted the token ${GIVE_UP_MS} ms after logout-all was sent`);
        continue;
      }
      const code = refusal.status === 401 ? (JSON.parse(refusal.body) as { code?: string }).code : undefined;
      if (code !== 'token_revoked') {
        failures.push(`trial ${i + 1}: B refused with ${refusal.status} ${refusal.body.slice(0, 200)}, not 401 token_revoked`);
        continue;
      }
      if (refusal.at < answered.at) refusedBeforeAnswer++;
      completed.push({
        fromAnswerMs: refusal.at - answered.at,
        fromSentMs: refusal.at - sent,
        logoutAllMs: answered.at - sent,
        polls,
      });
    }
  } finally {
    onA.close();
    onB.close();
  }
  return {
    instances,
    trials: users.length,
    completed,
    failures,
    fromAnswer: distribution(completed.map((t) => Math.max(0, t.fromAnswerMs))),
    fromSent: distribution(completed.map((t) => t.fromSentMs)),
    logoutAll: distribution(completed.map((t) => t.logoutAllMs)),
    refusedBeforeAnswer,
  };
}
