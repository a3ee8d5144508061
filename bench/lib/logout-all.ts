import type { Fixture } from './fixture.js';
import { postJson } from './fixture.js';
import { runLoad, type LoadResult } from './load.js';
import { refreshTarget } from './scenarios.js';

interface Attempt {
  /** ms since the scenario started. */
  sentAt: number;
  answeredAt: number;
  status: number;
  code?: string;
}

export interface VictimChain {
  attempts: number;
  succeededBeforeLogoutAll: number;
  /** Successful refreshes sent after logout-all answered: must be 0. */
  succeededAfterAck: number;
  /** Requests sent since logout-all was sent, up to and including the first refusal (1 = the very next one). */
  requestsUntilRefused?: number;
  /** The same, counting only requests sent after logout-all answered: 0 or 1 (refused at the latest by the next request). */
  requestsAfterAckUntilRefused?: number;
  refusal?: { status: number; code?: string; answeredAfterLogoutAllSentMs: number; answeredAfterAckMs: number };
}

export interface LogoutAllResult {
  users: number;
  connections: number;
  seconds: number;
  logoutAll: { status: number; sentAtMs: number; tookMs: number; refreshTokenVersion?: number };
  victim: VictimChain[];
  /** The other users' refresh traffic: every answer should be 200. */
  crowd: LoadResult;
  /** The victim's every device was refused at the first request sent after logout-all answered, and no other user saw an error. */
  ok: boolean;
}

/**
 * Refresh traffic for many users (autocannon, each connection cycling through its own
 * chains) while one user, refreshing on every one of their devices in a tight loop, logs
 * out everywhere part-way through. Records every refresh of that user with its timing.
 */
export async function logoutAllUnderLoad(
  fixture: Fixture,
  options: { connections: number; perConnection: number; seconds: number },
): Promise<LogoutAllResult> {
  const { baseUrl } = fixture.server;
  const { victim } = fixture;
  const origin = performance.now();
  const now = () => performance.now() - origin;
  let stop = false;

  const chains = victim.sessions.map(async (session) => {
    let token = session.refreshToken;
    const attempts: Attempt[] = [];
    while (!stop) {
      const sentAt = now();
      const response = await postJson(`${baseUrl}/auth/refresh`, { refreshToken: token });
      const body = (await response.json()) as { refreshToken?: string; code?: string };
      attempts.push({ sentAt, answeredAt: now(), status: response.status, code: body.code });
      if (response.status !== 200) break;
      token = body.refreshToken!;
    }
    return attempts;
  });

  const crowd = runLoad(refreshTarget(fixture, options.connections, options.perConnection), {
    baseUrl,
    connections: options.connections,
    duration: options.seconds,
    serverPid: fixture.server.pid,
    postgresDatabase: fixture.server.postgresDatabase,
    perRequestCpu: false,
  });

  // Part-way through: log out everywhere with one of the victim's access tokens.
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 400));
  const sentAtMs = now();
  const response = await fetch(`${baseUrl}/auth/logout-all`, {
    method: 'POST',
    headers: { authorization: `Bearer ${victim.sessions[0]!.accessToken}` },
  });
  const body = (await response.json()) as { refreshTokenVersion?: number };
  const logoutAll = { status: response.status, sentAtMs, tookMs: now() - sentAtMs, refreshTokenVersion: body.refreshTokenVersion };
  const ackAt = sentAtMs + logoutAll.tookMs;

  const crowdResult = await crowd;
  stop = true;
  const victimChains = (await Promise.all(chains)).map((attempts): VictimChain => {
    const refusalIndex = attempts.findIndex((a) => a.status !== 200);
    const refusal = refusalIndex >= 0 ? attempts[refusalIndex]! : undefined;
    const sentAfterAck = attempts.filter((a) => a.sentAt >= ackAt);
    return {
      attempts: attempts.length,
      succeededBeforeLogoutAll: attempts.filter((a) => a.status === 200 && a.answeredAt < sentAtMs).length,
      succeededAfterAck: sentAfterAck.filter((a) => a.status === 200).length,
      ...(refusal
        ? {
            requestsUntilRefused: attempts.slice(0, refusalIndex + 1).filter((a) => a.sentAt >= sentAtMs).length,
            requestsAfterAckUntilRefused: attempts.slice(0, refusalIndex + 1).filter((a) => a.sentAt >= ackAt).length,
            refusal: {
              status: refusal.status,
              code: refusal.code,
              answeredAfterLogoutAllSentMs: refusal.answeredAt - sentAtMs,
              answeredAfterAckMs: refusal.answeredAt - ackAt,
            },
          }
        : {}),
    };
  });

  const ok =
    logoutAll.status === 200 &&
    crowdResult.non2xx === 0 &&
    crowdResult.errors === 0 &&
    victimChains.every(
      (chain) =>
        chain.succeededBeforeLogoutAll > 0 &&
        chain.succeededAfterAck === 0 &&
        chain.refusal?.status === 401 &&
        chain.refusal.code === 'token_revoked' &&
        (chain.requestsAfterAckUntilRefused ?? Infinity) <= 1,
    );
  return {
    users: options.connections * options.perConnection,
    connections: options.connections,
    seconds: options.seconds,
    logoutAll,
    victim: victimChains,
    crowd: crowdResult,
    ok,
  };
}
