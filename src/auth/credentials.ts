import { AuthError, validationError } from '../errors.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const EMAIL_MAX = 254;

// Control characters, and lone surrogates (which UTF-8 would silently turn into U+FFFD).
const UNPRINTABLE = /[\p{Cc}\p{Cs}]/u;
// What an email may not contain because it shows as nothing, or as something else from one
// screen to the next: controls (Cc), format characters (Cf: zero-width space, joiners, word
// joiner, BOM, soft hyphen, bidi controls and isolates, tags), lone surrogates (Cs), private
// use (Co), code points unassigned in the running Node's Unicode (Cn, the noncharacters
// included), line and paragraph separators, and every other default-ignorable code point
// (combining grapheme joiner, Hangul fillers, variation selectors…). All Unicode properties,
// no hand list.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
// Deliberately loose (the mailbox decides what is deliverable) but never ambiguous: one @,
// no white space, a dot in the domain.
const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u;

/**
 * Trims, NFKC-normalises and lower-cases an email; throws `validation_failed` when it is not
 * one. Register, login and every other place an email is read go through here, and the stored
 * address is its result, so look-alikes that differ only in compatibility forms (fullwidth
 * `ａｄｍｉｎ`, `𝐚𝐝𝐦𝐢𝐧`, the Kelvin sign, ligatures) or in case are one address.
 *
 * - NFKC, then `toLowerCase()`, then NFKC again: lower-casing can leave a sequence that NFKC
 *   composes (`W` + U+030A → `w` + U+030A → `ẘ`), and the result must be one string per
 *   address (normalising it again changes nothing).
 * - `toLowerCase()`, not full case folding: `ß` stays `ß` (not `ss`: a different mailbox, as in
 *   IDNA2008), final `ς` stays `ς`. Locale-independent, so `I` is always `i`.
 * - Letters NFKC leaves apart stay apart, even where they look alike: the dotless `ı` (a
 *   Turkish letter) in `admın@…` is an address of its own, not `admin@…`. No confusables
 *   skeleton (Unicode TS #39): it would also merge different ASCII mailboxes (`l`/`1`/`I`,
 *   `rn`/`m`), its data changes with each Unicode version, and uniqueness on it would need a
 *   stored column and a rewrite of existing rows. docs/security.md#email-addresses.
 * - Invisible characters are refused, not removed: a zero-width space is a mistake or an
 *   attack, never part of an address.
 */
export function normalizeEmail(raw: string, path = '/email'): string {
  const email = raw.trim().normalize('NFKC').toLowerCase().normalize('NFKC');
  if ([...email].length > EMAIL_MAX) throw validationError([{ path, message: `must be at most ${EMAIL_MAX} characters` }]);
  if (INVISIBLE.test(email)) throw validationError([{ path, message: 'must not contain invisible, control or unassigned characters' }]);
  if (!EMAIL.test(email)) throw validationError([{ path, message: 'must be an email address' }]);
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
