// A real OpenID Connect provider (oidc-provider from the npm registry) on loopback, for the
// sign-in tests. Everything it knows comes from the environment, written by the test:
//   PORT           where it listens (127.0.0.1)
//   OIDC_CLIENTS   JSON list of clients: {client_id, client_secret, redirect_uris}
//   OIDC_ACCOUNTS  JSON object: account id -> the claims it has (the role claim among them)
//   ROLE_CLAIM     the name of the claim that carries a person's roles
//   ID_TOKEN_TTL   seconds an ID token is valid
// People sign in on the provider's own development forms: any account id, any password
// (the accounts the test names have claims; any other has none).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS);
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS);
const roleClaim = process.env.ROLE_CLAIM || 'roles';

const provider = new Provider(issuer, {
  clients: clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  async findAccount(ctx, id) {
    const claims = accounts[id] || {};
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...claims };
      },
    };
  },
  claims: {
    openid: ['sub'],
    email: ['email'],
    profile: ['name', 'given_name', 'family_name'],
    roles: [roleClaim],
  },
  // The claims of the scopes asked for go into the ID token, as many providers do.
  conformIdTokenClaims: false,
  ttl: { IdToken: Number(process.env.ID_TOKEN_TTL || 300) },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['loopback-test-only'] },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${issuer}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
