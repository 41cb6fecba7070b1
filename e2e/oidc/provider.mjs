// A real OpenID Connect provider (the certified `oidc-provider` library) for Berth's tests:
// static accounts with passwords and groups, one confidential client, a plain login form.
//
//   node provider.mjs <port> <client-redirect-uri>
//
// Prints "ready <issuer>" on standard output once listening. Accounts (password "Passw0rd!x"):
//   alice: groups ["dev-team", "berth-admins"]     bob: groups ["dev-team"]
// Tests change an account's groups with `PUT /test/accounts/<id>/groups` and a JSON list (this
// provider exists only for tests; it listens on 127.0.0.1).
import http from 'node:http';
import { URLSearchParams } from 'node:url';

import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 5556);
const redirectUri = process.argv[3] || 'http://127.0.0.1:5000/c/oidc/callback';
const issuer = `http://127.0.0.1:${port}`;
const PASSWORD = 'Passw0rd!x';
const accounts = {
  alice: { email: 'alice@example.test', name: 'Alice', groups: ['dev-team', 'berth-admins'] },
  bob: { email: 'bob@example.test', name: 'Bob', groups: ['dev-team'] },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'berth',
    client_secret: 'berth-client-secret',
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [redirectUri.replace(/\/c\/oidc\/callback$/, '/')],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  }],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
  ttl: { IdToken: 300, AccessToken: 300 },
  async findAccount(_ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return {
          sub: id, preferred_username: id, email: account.email, email_verified: true,
          name: account.name, groups: account.groups,
        };
      },
    };
  },
  // First-party client: every requested scope and claim is granted without a consent page.
  async loadExistingGrant(ctx) {
    const { client, session } = ctx.oidc;
    const existing = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
    if (existing) return ctx.oidc.provider.Grant.find(existing);
    const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope('openid email profile groups offline_access');
    grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'groups']);
    await grant.save();
    return grant;
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

const page = (uid, error) => `<!doctype html><html><head><title>Test IdP sign-in</title></head><body>
<h1>Test IdP</h1>${error ? `<p id="error">${error}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<input id="login" name="login" placeholder="user name"><input id="password" name="password" type="password">
<button id="submit" type="submit">Sign in</button></form></body></html>`;

const readForm = (req) => new Promise((resolve, reject) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => resolve(new URLSearchParams(body)));
  req.on('error', reject);
});

const callback = provider.callback();
const setGroups = async (req, res, id) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const groups = JSON.parse(body);
  if (!accounts[id] || !Array.isArray(groups)) {
    res.writeHead(404);
    return res.end();
  }
  accounts[id].groups = groups;
  res.writeHead(204);
  return res.end();
};

http.createServer(async (req, res) => {
  const control = req.url.match(/^\/test\/accounts\/([^/]+)\/groups$/);
  if (control && req.method === 'PUT') return setGroups(req, res, control[1]);
  const match = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  if (!match) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name !== 'login') {
      return provider.interactionFinished(req, res, {}, { mergeWithLastSubmission: true });
    }
    if (req.method === 'POST' && match[2]) {
      const form = await readForm(req);
      const login = form.get('login');
      if (!accounts[login] || form.get('password') !== PASSWORD) {
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end(page(details.uid, 'wrong user name or password'));
      }
      return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    return res.end(page(details.uid));
  } catch (err) {
    res.writeHead(400, { 'content-type': 'text/plain' });
    return res.end(String(err));
  }
}).listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
