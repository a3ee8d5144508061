import type { FastifyBaseLogger } from 'fastify';
import { lowPriorityThreads } from './threads.js';

/**
 * Says once at start whether argon2's threads run below the event loop (nice 19, from the
 * src/runtime/pool-priority.cjs preload), so a login storm cannot take the CPU from it.
 */
export function logThreadPriorities(log: FastifyBaseLogger): void {
  const threads = lowPriorityThreads();
  if (!threads) {
    log.info('thread priorities are left alone on this platform: password hashing competes with the event loop');
  } else if (threads.low > 0 && threads.eventLoopNice === 0) {
    log.info({ lowPriorityThreads: threads.low }, 'password hashing threads run at the lowest CPU priority');
  } else {
    log.warn(
      { lowPriorityThreads: threads.low, eventLoopNice: threads.eventLoopNice },
      'password hashing threads do not run below the event loop: start with node --require ./dist/runtime/pool-priority.cjs (npm start does), at normal priority',
    );
  }
}
