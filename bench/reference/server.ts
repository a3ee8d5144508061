/**
 * One reference server in its own process: `node --expose-gc --import tsx
 * bench/reference/server.ts <fastify-bare|fastify-service>`, on HOST and PORT, logging at
 * LOG_LEVEL (default warn). ME_ANSWER, a JSON `{ id, email, sessionId }`, is what GET /me
 * answers: the runner passes the service's own answer to the `me` scenario's request, so
 * both send the same bytes. Started and stopped by bench/run.ts (bench/lib/server-process.ts).
 */
import { randomUUID } from 'node:crypto';
import { REFERENCE_SCENARIOS, type ReferenceScenario } from '../lib/scenarios.js';
import { buildReferenceApp, type MeAnswer } from './apps.js';

const name = process.argv[2] as ReferenceScenario;
if (!REFERENCE_SCENARIOS.includes(name)) {
  console.error(`usage: node --import tsx bench/reference/server.ts <${REFERENCE_SCENARIOS.join('|')}>`);
  process.exit(2);
}

function answerFrom(json: string | undefined): MeAnswer {
  if (json === undefined) return { id: randomUUID(), email: 'main-0@bench.example.com', sessionId: randomUUID() };
  const parsed = JSON.parse(json) as Partial<MeAnswer>;
  if (typeof parsed.id !== 'string' || typeof parsed.email !== 'string' || typeof parsed.sessionId !== 'string') {
    throw new Error('ME_ANSWER must be a JSON { id, email, sessionId } of strings');
  }
  return { id: parsed.id, email: parsed.email, sessionId: parsed.sessionId };
}

const app = buildReferenceApp(name, { answer: answerFrom(process.env.ME_ANSWER), logLevel: process.env.LOG_LEVEL ?? 'warn' });

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });
