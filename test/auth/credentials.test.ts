import { describe, expect, it } from 'vitest';
import { normalizeEmail } from '../../src/auth/credentials.js';
import { AuthError } from '../../src/errors.js';

/** normalizeEmail's result, or undefined when it refuses the input (validation_failed only). */
function normalised(email: string): string | undefined {
  try {
    return normalizeEmail(email);
  } catch (error) {
    if (error instanceof AuthError && error.code === 'validation_failed') return undefined;
    throw error;
  }
}

const codePoints = function* (from: number, to: number, keep: (c: string) => boolean = () => true) {
  for (let cp = from; cp <= to; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (keep(c)) yield c;
  }
};

describe('normalizeEmail', () => {
  // The stored address is normalizeEmail's result and login looks it up by normalizeEmail of
  // the input: an address whose normal form normalises to something else could never sign in.
  it('is idempotent for every code point that normalising or lower-casing changes, and every mark', () => {
    const moved: string[] = [];
    for (const c of codePoints(0, 0x10ffff, (c) => c.normalize('NFKC') !== c || c.toLowerCase() !== c || /\p{M}/u.test(c))) {
      const once = normalised(`a${c}b@example.com`);
      if (once !== undefined && normalised(once) !== once) moved.push(c);
    }
    expect(moved).toEqual([]);
  });

  it('is idempotent for every capital letter followed by a mark that composes (lower-casing can make them compose)', () => {
    // The marks of every canonical decomposition: the only ones that can compose.
    const composing = new Set<string>();
    for (const c of codePoints(0, 0x10ffff)) {
      const decomposed = c.normalize('NFD');
      if (decomposed !== c) for (const part of decomposed) if (/\p{M}/u.test(part)) composing.add(part);
    }
    expect(composing.size).toBeGreaterThan(50);
    const moved: string[] = [];
    for (const letter of codePoints(0, 0x10ffff, (c) => /[\p{Lu}\p{Lt}]/u.test(c))) {
      for (const mark of composing) {
        const once = normalised(`${letter}${mark}@example.com`);
        if (once !== undefined && normalised(once) !== once) moved.push(`${letter}${mark}`);
      }
    }
    expect(moved).toEqual([]);
  });

  it('says which rule an email broke', () => {
    const message = (email: string) => {
      try {
        normalizeEmail(email);
      } catch (error) {
        return (error as AuthError).errors?.map((e) => e.message);
      }
    };
    expect(message('admin\u200b@example.com')).toEqual(['must not contain invisible, control or unassigned characters']);
    expect(message('admin@example')).toEqual(['must be an email address']);
    expect(message(`${'\ufb03'.repeat(21)}@${'b'.repeat(200)}.com`)).toEqual(['must be at most 254 characters']);
  });
});
