import { describe, expect, it } from 'vitest';
import { RevocationList } from '../../src/revocation/list.js';
import { testClock } from '../helper.js';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const S1 = '00000000-0000-4000-8000-000000000001';
const S2 = '00000000-0000-4000-8000-000000000002';
const WINDOW_MS = 930_000; // ACCESS_TOKEN_TTL 15m + the 30 s skew

const token = (sub: string, sid: string, refreshTokenVersion: number) => ({ sub, sid, refreshTokenVersion });

describe('RevocationList', () => {
  it('refuses a revoked session, and nothing else', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'session', userId: ALICE, sessionId: S1, at: clock.now() });
    expect(list.isRevoked(token(ALICE, S1, 0))).toBe(true);
    expect(list.isRevoked(token(ALICE, S2, 0))).toBe(false);
    expect(list.isRevoked(token(BOB, S2, 0))).toBe(false);
  });

  it('refuses versions below the lowest valid one; later and equal versions pass; the highest bump wins in any order', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 3, at: clock.now() });
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 2, at: clock.now() - 1000 });
    expect(list.isRevoked(token(ALICE, S1, 2))).toBe(true);
    expect(list.isRevoked(token(ALICE, S1, 3))).toBe(false);
    expect(list.isRevoked(token(ALICE, S1, 4))).toBe(false);
    expect(list.isRevoked(token(BOB, S1, 0))).toBe(false);
  });

  it('refuses every token of a deleted user', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 1, at: clock.now() });
    list.add({ kind: 'user_deleted', userId: ALICE, at: clock.now() });
    expect(list.isRevoked(token(ALICE, S1, 1))).toBe(true);
    expect(list.isRevoked(token(ALICE, S1, 1_000_000))).toBe(true);
  });

  it('drops entries older than ACCESS_TOKEN_TTL + the skew on the injected clock, and keeps younger ones', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'session', userId: ALICE, sessionId: S1, at: clock.now() });
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 1, at: clock.now() });
    clock.advance(WINDOW_MS / 1000 - 1);
    list.add({ kind: 'user_deleted', userId: BOB, at: clock.now() });
    expect(list.prune()).toBe(0);
    expect(list.size).toBe(3);
    clock.advance(1);
    expect(list.prune()).toBe(2);
    expect(list.size).toBe(1);
    expect(list.isRevoked(token(ALICE, S1, 0))).toBe(false);
    expect(list.isRevoked(token(BOB, S2, 0))).toBe(true);
    clock.advance(WINDOW_MS / 1000);
    expect(list.prune()).toBe(1);
    expect(list.size).toBe(0);
  });

  it('prunes an entry that was renewed by its time, not by when it first arrived', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 1, at: clock.now() });
    list.add({ kind: 'session', userId: ALICE, sessionId: S1, at: clock.now() });
    clock.advance(10);
    list.add({ kind: 'user_version', userId: BOB, refreshTokenVersion: 1, at: clock.now() });
    list.add({ kind: 'session', userId: BOB, sessionId: S2, at: clock.now() });
    clock.advance(10);
    // Alice signs out everywhere again and S1 is revoked once more (a reload delivering it late).
    list.add({ kind: 'user_version', userId: ALICE, refreshTokenVersion: 2, at: clock.now() });
    list.add({ kind: 'session', userId: ALICE, sessionId: S1, at: clock.now() });

    clock.advance(WINDOW_MS / 1000 - 5); // Bob's entries are out of the window, Alice's renewed ones are not
    expect(list.prune()).toBe(2);
    expect(list.isRevoked(token(BOB, 'other', 0))).toBe(false);
    expect(list.isRevoked(token(BOB, S2, 1))).toBe(false);
    expect(list.isRevoked(token(ALICE, 'other', 1))).toBe(true);
    expect(list.isRevoked(token(ALICE, S1, 2))).toBe(true);
    clock.advance(10);
    expect(list.prune()).toBe(2);
    expect(list.size).toBe(0);
  });

  it('ignores an event already older than the window (a reload never holds stale entries)', () => {
    const clock = testClock();
    const list = new RevocationList(clock, WINDOW_MS);
    list.add({ kind: 'session', userId: ALICE, sessionId: S1, at: clock.now() - WINDOW_MS });
    expect(list.size).toBe(0);
  });
});
