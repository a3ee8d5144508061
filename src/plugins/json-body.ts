import { isUtf8 } from 'node:buffer';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.js';

/** Request bodies over this are refused with 413 before they are parsed. */
export const BODY_LIMIT = 16 * 1024;

/**
 * JSON is the only body this API takes; an empty JSON body counts as no body. Bytes that
 * are not UTF-8 are not JSON (RFC 8259) and would otherwise turn silently into U+FFFD.
 */
export default fp(
  async (app) => {
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (request, body, done) => {
      const bytes = body as Buffer;
      if (bytes.length === 0) return done(null, undefined);
      if (!isUtf8(bytes)) return done(new HttpError('invalid_json', 'The body is not UTF-8'), undefined);
      parseJson(request, bytes.toString('utf8'), done);
    });
  },
  { name: 'versioned-auth-json-body', fastify: '5.x' },
);
