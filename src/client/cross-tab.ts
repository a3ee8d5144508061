import type { SignOutReason, User } from './types.js';

/** What one tab tells the others: a new access token, or that the session has ended. */
export type TabMessage =
  | { t: 'tokens'; accessToken: string; expiresAt: number; user: User }
  | { t: 'out'; reason: SignOutReason };

/** The part of the Web Locks API used here (not in Node 20's types, nor in every runtime). */
interface Locks {
  request<T>(name: string, options: { signal?: AbortSignal; ifAvailable?: boolean }, callback: (lock: unknown) => Promise<T>): Promise<T>;
}

export interface Tabs {
  /** Runs `work` while no other tab of the origin runs its own, or after `timeoutMs` of waiting regardless. */
  exclusive<T>(work: () => Promise<T>): Promise<T>;
  post(message: TabMessage): void;
  close(): void;
}

const BUSY = Symbol();
/** How long a tab granted the lock waits for its last holder's 'done' (a holder that crashed sends none). */
const DONE_WAIT_MS = 1000;

/** Coordination with the other tabs of the origin: a Web Lock and a BroadcastChannel, each where the runtime has it. */
export function connectTabs(name: string, timeoutMs: number, receive: (message: TabMessage) => void): Tabs {
  const g = globalThis as unknown as { navigator?: { locks?: Locks }; BroadcastChannel?: typeof BroadcastChannel };
  const locks = g.navigator?.locks;
  const channel = g.BroadcastChannel && new g.BroadcastChannel(name);
  /** 'done' messages heard: each is another tab leaving the lock, after posting what it got. */
  let done = 0;
  const waiting = new Set<() => void>();
  if (channel) {
    channel.onmessage = ({ data }) => {
      if (data !== 'done') return receive(data as TabMessage);
      done++;
      for (const wake of waiting) wake();
    };
    (channel as { unref?(): void }).unref?.();
  }
  const post = (message: TabMessage | 'done') => channel?.postMessage(message);
  /** Resolves once a 'done' beyond the `heard`-th has arrived, or after DONE_WAIT_MS; at once without a channel. */
  const doneSince = (heard: number) =>
    new Promise<void>((resolve) => {
      if (!channel || done !== heard) return resolve();
      const finish = () => {
        clearTimeout(timer);
        waiting.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, DONE_WAIT_MS);
      waiting.add(finish);
    });
  /** `work`, then 'done' for the tabs waiting on the lock. */
  const run = async <T>(work: () => Promise<T>) => {
    try {
      return await work();
    } finally {
      post('done');
    }
  };

  return {
    async exclusive(work) {
      if (!locks) return work();
      const heard = done;
      const free = await locks.request(name, { ifAvailable: true }, async (lock) => (lock ? run(work) : BUSY));
      if (free !== BUSY) return free;
      // Another tab holds the lock, most likely refreshing. It posts its new token, then 'done',
      // and only then lets go; but the grant may reach this tab before those messages do (they
      // travel apart), and refreshing then would spend the token the holder just got. So, once
      // granted, wait for the holder's 'done': after it, its token (if any) has arrived too.
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), timeoutMs);
      let granted = false;
      try {
        return await locks.request(name, { signal: abort.signal }, async () => {
          granted = true;
          clearTimeout(timer);
          await doneSince(heard);
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
