import type { Config } from '../config/index.js';
import type { Database } from '../db/client.js';
import { pruneNow, sessionRetentionSeconds } from '../db/prune.js';
import type { Output } from './context.js';

/**
 * `sessions prune`: the background maintenance run, now (ended sessions, the security log past
 * AUDIT_RETENTION, old revocation rows). Skipped, and said, while a server instance runs it.
 */
export async function pruneSessions(database: Database, config: Config): Promise<Output> {
  const result = await pruneNow(database, config);
  if (result.skipped) {
    return { text: 'skipped: another instance is pruning right now (nothing deleted here)', json: { skipped: true } };
  }
  const { sessions, authEvents, revocations } = result.counts;
  return {
    text: [
      `pruned ${sessions} sessions (ended more than ${sessionRetentionSeconds(config)}s ago)`,
      `pruned ${authEvents} auth events (older than AUDIT_RETENTION, ${config.auditRetention}s)`,
      `pruned ${revocations} revocations`,
    ].join('\n'),
    json: { skipped: false, pruned: result.counts },
  };
}
