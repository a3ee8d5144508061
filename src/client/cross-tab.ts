import type { SignOutReason, User } from './types.js';

/** What one tab tells the others: a new access token, or that the session has ended. */
export type TabMessage =
  | { t: 'tokens'; accessToken: string; expiresAt: number; user: User }
  | { t: 'out'; reason: SignOutReason };

/** That a tab took the lock, or left it (after posting what it got). */
type LockMessage = { t: 'held' | 'done'; id: string };

/** The part of the Web Locks API used here (not in Node 20's types, nor in every runtime). */
interface Locks {
  request<T>(name: string, options: { signal: AbortSignal }, callback: () => Promise<T>): Promise<T>;
}

export interface Tabs {
  /** Runs `work` while no other tab of the origin runs its own, or after `timeoutMs` of waiting regardless. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  post(message: TabMessage): void;
  close(): void;
}

/** How long a tab that took the lock waits for the last holder's `done` (a tab closed mid-refresh sends none). */
const DONE_WAIT_MS = 1000;

/** Coordination with the other tabs of the origin: a Web Lock and a BroadcastChannel, each where the runtime has it. */
export function connectTabs(name: string, timeoutMs: number, receive: (message: TabMessage) => void): Tabs {
  const g = globalThis as unknown as { navigator?: { locks?: Locks }; BroadcastChannel?: typeof BroadcastChannel };
  const locks = g.navigator?.locks;
  const channel = g.BroadcastChannel && new g.BroadcastChannel(name);
  const id = Math.random().toString(36).slice(2);
  /** Other tabs that said they took the lock and have not yet said they left it. */
  const holders = new Set<string>();
  const waiting = new Set<() => void>();
  if (channel) {
    channel.onmessage = ({ data }: { data: TabMessage | LockMessage }) => {
      if (data.t === 'held') holders.add(data.id);
      else if (data.t === 'done') {
        holders.delete(data.id);
        for (const wake of waiting) wake();
      } else receive(data as TabMessage);
    };
    (channel as { unref?(): void }).unref?.();
  }
  const post = (message: TabMessage | LockMessage) => channel?.postMessage(message);

  /**
   * Resolves when no other tab is known to hold the lock. The lock's grant and the last
   * holder's messages (its new token, then `done`) travel apart, and the grant can come
   * first: refreshing then would spend the token the holder just got. Messages from one tab
   * arrive in order, so after its `done` its token is here too. A holder that never says
   * `done` (closed, crashed) is forgotten after DONE_WAIT_MS.
   */
  const lastHolderDone = () =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (holders.size > 0) return;
        clearTimeout(timer);
        waiting.delete(check);
        resolve();
      };
      const timer = setTimeout(() => (holders.clear(), check()), DONE_WAIT_MS);
      waiting.add(check);
      check();
    });

  /** `work` as the lock's holder: announced, after the last holder's news, then `done`. */
  const run = async <T>(work: () => Promise<T>) => {
    post({ t: 'held', id });
    try {
      await lastHolderDone();
      return await work();
    } finally {
      post({ t: 'done', id });
    }
  };

  return {
    async exclusive(work) {
      if (!locks) return work();
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      let granted = false;
      try {
        return await locks.request(name, { signal: abort.signal }, () => {
          granted = true;
          clearTimeout(timer);
          return run(work);
        });
      } catch (error) {
        if (granted) throw error;
        // Not granted in time: the holder may be a frozen tab. Going ahead risks one double
        // rotation, which the server's reuse grace window answers with the same session.
        return run(work);
      } finally {
        clearTimeout(timer);
      }
    },
    post,
    close: () => channel?.close(),
  };
}
