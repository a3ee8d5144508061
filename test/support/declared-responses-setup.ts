import { afterAll } from 'vitest';
import { undeclaredResponses } from './declared-responses.js';

// After the file's own afterAll hooks: the apps are closed, every answer has been seen.
afterAll(() => {
  if (undeclaredResponses.length > 0) {
    throw new Error(`answers the OpenAPI document does not declare (fix the route's problems(...)):\n  ${undeclaredResponses.join('\n  ')}`);
  }
});
