import { randomUUID } from 'node:crypto';
import { recordAuthEvent } from '../db/auth-events.js';
import { createSessionsRepository, type RefreshState } from '../db/sessions.js';
import { AuthError } from '../errors.js';
import type { RefreshClaims } from '../tokens/index.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { deviceFields } from './security-log.js';
import { issueSessionTokens } from './session-tokens.js';

/**
 * Rotates a refresh token. The fast path is one compare-and-swap statement. When it does
 * not match, the session is read under lock to say why: a version or session no longer
 * current (`token_revoked`), a spent token within the reuse grace (200 for the same
 * session), or a spent token after it, which is treated as theft and revokes the session
 * (recording `refresh_reused` in the same transaction). Only that path writes an event.
 */
export async function refresh(deps: AuthDeps, refreshToken: string, device: DeviceInfo): Promise<SignedIn> {
  const claims = deps.tokens.verifyRefresh(refreshToken);
  const nextJti = randomUUID();
  const now = new Date(deps.clock.now());
  const rotation = {
    sessionId: claims.sid,
    userId: claims.sub,
    refreshTokenVersion: claims.refreshTokenVersion,
    jti: claims.jti,
    nextJti,
    now,
    ...device,
  };
  const rotated = await createSessionsRepository(deps.db).rotate(rotation);
  if (rotated) {
    deps.metrics.refresh('rotated');
    return tokensFor(deps, claims, rotated.email, nextJti, rotated.expiresAt);
  }

  const outcome = await deps.db.transaction(async (tx) => {
    const sessions = createSessionsRepository(tx);
    const state = await sessions.lockForRefresh(claims.sid, claims.sub);
    const verdict = judge(state, claims, now.getTime(), deps.refreshReuseGrace);
    if (verdict === 'current') {
      // Not expected (the CAS conditions only ever turn false), but with the rows locked a retry cannot lose.
      const again = await sessions.rotate(rotation);
      if (again) deps.metrics.refresh('rotated');
      return again ? tokensFor(deps, claims, again.email, nextJti, again.expiresAt) : ('revoked' as const);
    }
    if (verdict === 'grace') {
      deps.metrics.refresh('grace');
      return tokensFor(deps, claims, state!.email, state!.refreshJti, state!.expiresAt);
    }
    if (verdict === 'reused' && (await sessions.revoke(claims.sid, claims.sub, now))) {
      await recordAuthEvent(tx, { userId: claims.sub, type: 'refresh_reused', sessionId: claims.sid, ...deviceFields(device), at: now });
    }
    return verdict;
  });
  // Thrown after the transaction, so the revocation of a reused session is committed.
  if (outcome === 'reused') throw new AuthError('refresh_token_reused', 'Refresh token already used');
  if (outcome === 'revoked') throw new AuthError('token_revoked', 'The session is no longer valid');
  if (outcome === 'expired') throw new AuthError('token_expired', 'The session has ended');
  return outcome;
}

type Verdict = 'revoked' | 'expired' | 'current' | 'grace' | 'reused';

function judge(state: RefreshState | undefined, claims: RefreshClaims, now: number, graceSeconds: number): Verdict {
  if (!state || state.revokedAt) return 'revoked';
  // Within the clock skew the token itself still verifies; the session's end is exact.
  if (state.expiresAt.getTime() <= now) return 'expired';
  if (state.userVersion !== claims.refreshTokenVersion) return 'revoked';
  if (state.refreshJti === claims.jti) return 'current';
  const rotatedAt = state.rotatedAt?.getTime() ?? -Infinity;
  if (state.previousJti === claims.jti && now - rotatedAt <= graceSeconds * 1000) return 'grace';
  return 'reused';
}

/** Tokens for the same session; the refresh token carries `jti`, the session's current one. */
function tokensFor(deps: AuthDeps, claims: RefreshClaims, email: string, jti: string, expiresAt: Date): SignedIn {
  return issueSessionTokens(deps, {
    user: { id: claims.sub, email },
    sessionId: claims.sid,
    refreshTokenVersion: claims.refreshTokenVersion,
    refreshJti: jti,
    expiresAt,
  });
}
