import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../../src/db/schema.js';
import { buildTestApp, expectRefusedWithoutWrites, loginWith, PASSWORD, problem, register, type TestApp } from '../helper.js';

let t: TestApp;
let admin: Awaited<ReturnType<typeof register>>;
beforeAll(async () => {
  t = await buildTestApp();
  admin = await register(t.app, 'admin@example.com');
});
afterAll(() => t.close());

const registerWith = (email: string) => t.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } });

describe('look-alikes of admin@example.com', () => {
  it.each([
    ['fullwidth letters', '\uff41\uff44\uff4d\uff49\uff4e@example.com'],
    ['one fullwidth letter', '\uff41dmin@example.com'],
    ['fullwidth capitals, @ and full stop', '\uff21\uff24\uff2d\uff29\uff2e\uff20\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff23\uff2f\uff2d'],
    ['mathematical bold letters', '\u{1d41a}\u{1d41d}\u{1d426}\u{1d422}\u{1d427}@example.com'],
    ['circled letters', '\u24d0\u24d3\u24dc\u24d8\u24dd@example.com'],
  ])('normalises %s to the same address: register is 409 email_taken, login signs in to the same account', async (_name, email) => {
    await expectRefusedWithoutWrites(t.database, () => registerWith(email), { status: 409, code: 'email_taken' });
    const login = await loginWith(t.app, email);
    expect(login.statusCode).toBe(200);
    expect(login.json().user).toEqual(admin.user);
  });

  it.each([
    ['a zero-width space before @', 'admin\u200b@example.com'],
    ['a zero-width space at the start', '\u200badmin@example.com'],
    ['a zero-width non-joiner', 'ad\u200cmin@example.com'],
    ['a zero-width joiner', 'ad\u200dmin@example.com'],
    ['a word joiner', 'ad\u2060min@example.com'],
    ['a byte order mark inside', 'ad\ufeffmin@example.com'],
    ['a soft hyphen', 'ad\u00admin@example.com'],
    ['a right-to-left override', '\u202enimda@example.com'],
    ['a left-to-right embedding', 'admin@\u202aexample.com'],
    ['a right-to-left isolate', 'admin\u2067@example.com'],
    ['a left-to-right mark', 'admin\u200e@example.com'],
    ['an Arabic letter mark', 'admin\u061c@example.com'],
    ['a Mongolian vowel separator', 'admin\u180e@example.com'],
    ['a combining grapheme joiner', 'admin\u034f@example.com'],
    ['a Hangul filler', 'admin\u3164@example.com'],
    ['a halfwidth Hangul filler', 'admin\uffa0@example.com'],
    ['a variation selector', 'admin\ufe0f@example.com'],
    ['a tag character', 'admin\u{e0041}@example.com'],
    ['a private-use character', 'admin\ue000@example.com'],
    ['an unassigned code point', 'admin\u0378@example.com'],
    ['a noncharacter', 'admin\uffff@example.com'],
    ['a control character', 'admin\u0007@example.com'],
    ['a line separator', 'admin\u2028@example.com'],
    ['a lone surrogate', 'admin\ud800@example.com'],
  ])('refuses %s with 400 validation_failed at /email, writing nothing, at register and login', async (_name, email) => {
    for (const url of ['/auth/register', '/auth/login']) {
      await expectRefusedWithoutWrites(t.database, () => t.app.inject({ method: 'POST', url, payload: { email, password: PASSWORD } }), {
        status: 400,
        code: 'validation_failed',
        path: '/email',
      });
    }
  });

  it('keeps the dotless ı a letter of its own: admın@example.com is another account (docs/security.md#email-addresses)', async () => {
    const res = await registerWith('adm\u0131n@example.com');
    expect(res.statusCode).toBe(201);
    const other = res.json().user;
    expect(other.email).toBe('adm\u0131n@example.com');
    expect(other.id).not.toBe(admin.user.id);
    expect((await loginWith(t.app, 'adm\u0131n@example.com')).json().user).toEqual(other);
    expect((await loginWith(t.app, 'ADMIN@example.com')).json().user).toEqual(admin.user);
    // So are a Cyrillic і, and the capital dotted İ, which lower-cases to i + U+0307.
    expect((await registerWith('adm\u0456n@example.com')).statusCode).toBe(201);
    const dotted = await registerWith('ADM\u0130N@example.com');
    expect(dotted.statusCode).toBe(201);
    expect(dotted.json().user.email).toBe('admi\u0307n@example.com');
  });
});

describe('one stored form per address', () => {
  it.each([
    ['the Kelvin sign', 'kelvin@example.com', '\u212aelvin@example.com'],
    ['a ligature', 'fish@example.com', '\ufb01sh@example.com'],
    ['a decomposed é', 'jos\u00e9@example.com', 'jose\u0301@example.com'],
    ['a capital W with a combining ring (lower-cased, it composes to ẘ)', '\u1e98@example.com', 'W\u030a@example.com'],
    ['a capital J with a combining caron (lower-cased, it composes to ǰ)', '\u01f0@example.com', 'J\u030c@example.com'],
    ['the capital sharp S', 'stra\u00dfe@example.com', 'STRA\u1e9eE@example.com'],
  ])('treats %s as the same address', async (_name, first, second) => {
    const created = await registerWith(first);
    expect(created.statusCode).toBe(201);
    await expectRefusedWithoutWrites(t.database, () => registerWith(second), { status: 409, code: 'email_taken' });
    expect((await loginWith(t.app, second)).json().user).toEqual(created.json().user);
  });

  it('keeps ß apart from ss (lower-casing, not case folding)', async () => {
    expect((await registerWith('gro\u00df@example.com')).statusCode).toBe(201);
    expect((await registerWith('gross@example.com')).statusCode).toBe(201);
  });
});

describe('the 254-character limit', () => {
  it('applies after normalising: 226 characters that NFKC makes 268 are refused, writing nothing', async () => {
    const email = `${'\ufb03'.repeat(21)}@${'b'.repeat(200)}.com`;
    expect([...email]).toHaveLength(226);
    const res = await expectRefusedWithoutWrites(t.database, () => registerWith(email), { status: 400, code: 'validation_failed', path: '/email' });
    expect(problem(res).errors).toEqual([{ path: '/email', message: 'must be at most 254 characters' }]);
  });

  it('applies after normalising: 255 characters that NFC composes to 254 are accepted', async () => {
    const email = `jose\u0301@${'b'.repeat(245)}.com`;
    expect([...email]).toHaveLength(255);
    expect((await registerWith(email)).statusCode).toBe(201);
  });

  it('counts the local part after normalising too: 22 ﬃ are 66 characters, over 64', async () => {
    await expectRefusedWithoutWrites(t.database, () => registerWith(`${'\ufb03'.repeat(22)}@example.com`), {
      status: 400,
      code: 'validation_failed',
      path: '/email',
    });
  });
});

describe('rows stored before NFKC', () => {
  it('are no longer reached by their old spelling, and the query in docs/security.md finds them', async () => {
    // Stored as the old rule did (NFC, lower-case), which kept fullwidth letters and invisible ones.
    const fullwidth = await register(t.app, 'legacy@example.com');
    const invisible = await register(t.app, 'legacy2@example.com');
    await t.database.db.update(users).set({ email: '\uff4cegacy@example.com' }).where(eq(users.id, fullwidth.user.id));
    await t.database.db.update(users).set({ email: 'legacy\u200b2@example.com' }).where(eq(users.id, invisible.user.id));

    const res = await loginWith(t.app, '\uff4cegacy@example.com');
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('invalid_credentials');
    const refused = await loginWith(t.app, 'legacy\u200b2@example.com');
    expect(refused.statusCode).toBe(400);
    expect(problem(refused).code).toBe('validation_failed');

    const found = await t.database.db.execute(
      sql.raw(String.raw`SELECT id FROM users WHERE NOT email IS NFKC NORMALIZED OR email ~ '[\u00AD\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF]'`),
    );
    const { rows } = found as unknown as { rows: { id: string }[] };
    expect(rows.map((r) => r.id).sort()).toEqual([fullwidth.user.id, invisible.user.id].sort());
  });
});
