import { AuthError, validationError } from '../errors.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const EMAIL_MAX = 254;

// Control characters, and lone surrogates (which UTF-8 would silently turn into U+FFFD).
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;
// Deliberately loose (the mailbox decides what is deliverable) but never ambiguous: one @,
// no white space, a dot in the domain.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u;

/** Trims, NFC-normalises and lower-cases an email; throws `validation_failed` when it is not one. */
export function normalizeEmail(raw: string, path = '/email'): string {
  const email = raw.trim().normalize('NFC').toLowerCase();
  if ([...email].length > EMAIL_MAX) throw validationError([{ path, message: `must be at most ${EMAIL_MAX} characters` }]);
  if (!EMAIL.test(email) || UNPRINTABLE.test(email)) throw validationError([{ path, message: 'must be an email address' }]);
  return email;
}

/**
 * NFC-normalises a password and checks the policy: 8 to 128 characters (code points),
 * printable (no control characters, no lone surrogates), never truncated. Runs before any
 * argon2 work, so an oversized password costs the server nothing.
 */
export function normalizePassword(raw: string, path = '/password'): string {
  const password = raw.normalize('NFC');
  const length = [...password].length;
  if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
    throw validationError([{ path, message: `must be ${PASSWORD_MIN} to ${PASSWORD_MAX} characters` }]);
  }
  if (UNPRINTABLE.test(password)) {
    throw validationError([{ path, message: 'must contain printable characters only' }]);
  }
  return password;
}

/** Normalises both fields, reporting every problem at once. */
export function normalizeCredentials(input: { email: string; password: string }): { email: string; password: string } {
  const errors = [];
  let email = '';
  let password = '';
  try {
    email = normalizeEmail(input.email);
  } catch (error) {
    errors.push(...fieldErrors(error));
  }
  try {
    password = normalizePassword(input.password);
  } catch (error) {
    errors.push(...fieldErrors(error));
  }
  if (errors.length > 0) throw validationError(errors);
  return { email, password };
}

function fieldErrors(error: unknown) {
  if (error instanceof AuthError && error.errors) return error.errors;
  throw error;
}
