import type { SignOutReason, User } from './types.js';

/** What one tab tells the others: a new access token, or that the session has ended. */
export type TabMessage =
  | { t: 'tokens'; accessToken: string; expiresAt: number; user: User }
  | { t: 'out'; reason: SignOutReason };

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

/** Coordination with the other tabs of the origin: a Web Lock and a BroadcastChannel, each where the runtime has it. */
export function connectTabs(name: string, timeoutMs: number, receive: (message: TabMessage) => void): Tabs {
  const g = globalThis as unknown as { navigator?: { locks?: Locks }; BroadcastChannel?: typeof BroadcastChannel };
  const locks = g.navigator?.locks;
  const channel = g.BroadcastChannel && new g.BroadcastChannel(name);
  if (channel) {
    channel.onmessage = (event) => receive(event.data as TabMessage);
    (channel as { unref?(): void }).unref?.();
  }
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
          return work();
        });
      } catch (error) {
        if (granted) throw error;
        // Not granted in time: the holder may be a frozen tab. Going ahead risks one double
        // rotation, which the server's reuse grace window answers with the same session.
        return work();
      } finally {
        clearTimeout(timer);
      }
    },
    post: (message) => channel?.postMessage(message),
    close: () => channel?.close(),
  };
}
