import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';
import { pruneNow } from '../db/prune.js';

/** How often each instance tries to prune (one at a time across instances: the advisory lock). */
export const MAINTENANCE_EVERY_MS = 5 * 60_000;

export interface MaintenanceOptions {
  config: Pick<Config, 'jwt' | 'refreshReuseGrace' | 'auditRetention' | 'clock'>;
  /** `false`: no background pruning in this instance (`npm run admin -- sessions prune` still works). */
  enabled?: boolean;
  everyMs?: number;
}

/**
 * Background maintenance: every `everyMs`, prunes the ended sessions, the security log past
 * AUDIT_RETENTION and old revocation rows (src/db/prune.ts). Errors are logged and the next
 * turn tries again; closing the app stops the timer and waits for a run in progress, which
 * stops after its current batch.
 */
export default fp<MaintenanceOptions>(
  async (app, { config, enabled = true, everyMs = MAINTENANCE_EVERY_MS }) => {
    if (!enabled) return;
    const database = app.authDatabase;
    let closing = false;
    let running: Promise<void> | undefined;
    const run = async () => {
      try {
        const result = await pruneNow(database, config, () => closing);
        if (!result.skipped && result.counts.sessions + result.counts.authEvents + result.counts.revocations > 0) {
          app.log.info({ pruned: result.counts }, 'maintenance: pruned ended sessions and old log rows');
        }
      } catch (error) {
        app.log.warn({ err: error }, 'maintenance: pruning failed; it is tried again at the next turn');
      }
    };
    const timer = setInterval(() => {
      running ??= run().finally(() => (running = undefined));
    }, everyMs);
    timer.unref();
    app.addHook('onClose', async () => {
      closing = true;
      clearInterval(timer);
      await running;
    });
  },
  { name: 'versioned-auth-maintenance', fastify: '5.x', dependencies: ['versioned-auth-database'] },
);
