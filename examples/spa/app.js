// The demo SPA: versioned-auth's client with cookie transport, plain ES modules, no build step.
// The server serves this folder at /demo/ and the built client (dist/client) at /demo/client/.
import { createClient } from './client/index.js';

// Cookie transport: the refresh token lives in an HttpOnly cookie this script cannot read, and
// the access token only in memory. So a fresh page has none: its first call refreshes.
const client = createClient({ baseUrl: location.origin, transport: 'cookie' });

const $ = (id) => document.getElementById(id);

function showSignedIn(user) {
  document.body.dataset.state = 'signed-in';
  $('status').textContent = `Signed in as ${user.email}`;
}

function showSignedOut(reason) {
  document.body.dataset.state = 'signed-out';
  $('status').textContent = reason ? `Signed out (${reason})` : 'Signed out';
  $('sessions').replaceChildren();
}

function logEvent(text) {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('events').append(item);
}

function show(text) {
  $('result').textContent = text;
}

/** Runs a button's action; a refusal shows its code (`invalid_credentials`, `token_revoked`…). */
async function run(action) {
  try {
    await action();
  } catch (error) {
    show(`${error.code ?? error.name}: ${error.message}`);
  }
}

// Fired with the server's code when the session ends: here, in another tab (through the
// client's BroadcastChannel), or on another device (logout everywhere, a revoked session).
client.onSignedOut((reason) => {
  logEvent(`signed out: ${reason}`);
  showSignedOut(reason);
});

$('credentials').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = event.target;
  const fields = new FormData(form);
  const credentials = { email: fields.get('email'), password: fields.get('password') };
  const register = event.submitter?.value === 'register';
  run(async () => {
    const user = register ? await client.register(credentials) : await client.signIn(credentials);
    form.reset();
    showSignedIn(user);
  });
});

$('me').addEventListener('click', () =>
  run(async () => {
    show(JSON.stringify(await client.me(), null, 2));
  }),
);

// Twenty calls at once: the client refreshes once for all of them (and once across tabs).
$('me-20').addEventListener('click', () => {
  const result = $('result');
  delete result.dataset.statuses;
  run(async () => {
    const calls = Array.from({ length: 20 }, () => client.fetch('/me').then((res) => res.status, (error) => error.code ?? String(error)));
    const statuses = await Promise.all(calls);
    result.dataset.statuses = JSON.stringify(statuses);
    show(`/me ×20: ${statuses.join(' ')}`);
  });
});

$('sign-out').addEventListener('click', () => run(() => client.signOut()));
$('sign-out-everywhere').addEventListener('click', () => run(() => client.signOutEverywhere()));

$('list-sessions').addEventListener('click', () => run(listSessions));

async function listSessions() {
  const sessions = await client.sessions();
  $('sessions').replaceChildren(
    ...sessions.map((session) => {
      const item = document.createElement('li');
      const revoke = document.createElement('button');
      revoke.type = 'button';
      revoke.textContent = 'Revoke';
      revoke.addEventListener('click', () => run(() => client.revokeSession(session.id).then(listSessions)));
      const where = `${session.userAgent ?? 'unknown browser'}, ${session.ip ?? 'unknown address'}`;
      item.append(`${session.current ? '(this browser) ' : ''}${where}, last used ${session.lastUsedAt} `, revoke);
      return item;
    }),
  );
}

// On load: signed in if the cookie still refreshes.
run(async () => {
  try {
    showSignedIn(await client.me());
  } catch (error) {
    showSignedOut(error.code);
  }
});
