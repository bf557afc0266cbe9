import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtService } from '@nestjs/jwt';
import { registerAndLogIn, startTestApp, type TestApp } from './support/test-app.js';

describe('identity over HTTP', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });
  afterAll(async () => {
    await testApp.destroy();
  });

  it('registers, logs in and answers /v1/users/me with the JWT', async () => {
    const registered = await testApp.http
      .post('/v1/auth/register')
      .send({ username: 'grace', password: 'hopper-1906' })
      .expect(201);
    expect(registered.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), username: 'grace' });

    const login = await testApp.http
      .post('/v1/auth/login')
      .send({ username: 'grace', password: 'hopper-1906' })
      .expect(200);
    expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });

    const me = await testApp.http
      .get('/v1/users/me')
      .set('Authorization', `Bearer ${login.body.accessToken}`)
      .expect(200);
    expect(me.body).toEqual({ id: registered.body.id, username: 'grace', createdAt: expect.any(String) });
  });

  it('refuses a taken username, whatever its case, with 409 USERNAME_TAKEN', async () => {
    await testApp.http.post('/v1/auth/register').send({ username: 'Linus', password: 'password-1' }).expect(201);
    const again = await testApp.http
      .post('/v1/auth/register')
      .send({ username: 'linus', password: 'password-2' })
      .expect(409);
    expect(again.body).toMatchObject({ statusCode: 409, code: 'USERNAME_TAKEN' });
  });

  it('lets only one of two simultaneous registrations of a name succeed', async () => {
    const attempts = await Promise.all(
      [1, 2, 3].map(() => testApp.http.post('/v1/auth/register').send({ username: 'race', password: 'password-1' })),
    );
    expect(attempts.map((response) => response.status).sort()).toEqual([201, 409, 409]);
  });

  it.each([
    [{ password: 'long enough' }, 'username'],
    [{ username: 'ab', password: 'long enough' }, 'username'],
    [{ username: 'a'.repeat(33), password: 'long enough' }, 'username'],
    [{ username: 'has space', password: 'long enough' }, 'username'],
    [{ username: 'valid', password: 'short' }, 'password'],
    [{ username: 'valid', password: 12345678 }, 'password'],
  ])('rejects bad registration %j with 400 naming %s', async (body, field) => {
    const response = await testApp.http.post('/v1/auth/register').send(body).expect(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(response.body.details.map((detail: { field: string }) => detail.field)).toContain(field);
  });

  it('rejects malformed JSON with 400 MALFORMED_JSON', async () => {
    const response = await testApp.http
      .post('/v1/auth/register')
      .set('Content-Type', 'application/json')
      .send('{"username": ')
      .expect(400);
    expect(response.body.code).toBe('MALFORMED_JSON');
  });

  it('answers a wrong password or unknown user with the same 401', async () => {
    const user = await registerAndLogIn(testApp);
    const wrong = await testApp.http
      .post('/v1/auth/login')
      .send({ username: user.username, password: 'not-the-password' });
    const unknown = await testApp.http.post('/v1/auth/login').send({ username: 'nobody-here', password: 'whatever-1' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('INVALID_CREDENTIALS');
  });

  it('refuses a missing, malformed or tampered JWT with 401', async () => {
    const user = await registerAndLogIn(testApp);
    await testApp.http.get('/v1/users/me').expect(401);
    await testApp.http.get('/v1/users/me').set('Authorization', 'Bearer not-a-jwt').expect(401);
    const [header, payload, signature] = user.auth.slice('Bearer '.length).split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, username: 'admin' })).toString('base64url');
    const response = await testApp.http
      .get('/v1/users/me')
      .set('Authorization', `Bearer ${header}.${forged}.${signature}`);
    expect(response.status).toBe(401);
    expect(response.body.code).toBe('TOKEN_INVALID');
  });

  it.each([
    ['password9', 'too-short', 'at least 10 characters'],
    ['          ', 'repeated-character', 'one character repeated'],
    ['aaaaaaaaaaaaaaaa', 'repeated-character', 'one character repeated'],
    ['1234567890', 'common', 'most common passwords'],
    ['Password123', 'common', 'most common passwords'],
  ])('refuses the weak password %j at registration with 400 WEAK_PASSWORD (%s)', async (password, rule, reason) => {
    const username = `weak${Buffer.from(password).toString('hex').slice(0, 20)}`;
    const response = await testApp.http.post('/v1/auth/register').send({ username, password });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'WEAK_PASSWORD', details: { rule } });
    expect(response.body.message).toContain(reason);
    // Nothing was recorded: the name is still free.
    await testApp.http.post('/v1/auth/register').send({ username, password: 'a far better passphrase' }).expect(201);
  });

  it('says why it refuses a token: malformed, bad signature, expired, without expiry, revoked', async () => {
    const user = await registerAndLogIn(testApp);
    const jwt = testApp.app.get(JwtService);
    const codeFor = async (token: string) =>
      (await testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${token}`).expect(401)).body.code;

    expect(await codeFor('not-a-jwt')).toBe('TOKEN_MALFORMED');
    expect(await codeFor('a.b.c')).toBe('TOKEN_MALFORMED');
    const claims = { sub: user.id, username: user.username };
    const past = Math.floor(Date.now() / 1000) - 60;
    expect(await codeFor(jwt.sign({ ...claims, iat: past - 60, exp: past }))).toBe('TOKEN_EXPIRED');
    // Correctly signed with the server's own secret, but without `exp`: it would never expire.
    expect(await codeFor(jwt.sign(claims))).toBe('TOKEN_WITHOUT_EXPIRY');
    expect(await codeFor(jwt.sign(claims, { secret: 'another-secret-of-at-least-32-characters', expiresIn: 60 }))).toBe(
      'TOKEN_INVALID',
    );
    expect(await codeFor('dml_nothing-like-this-was-ever-issued')).toBe('TOKEN_INVALID');
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'old' })
      .expect(201);
    await testApp.http.delete(`/v1/users/me/tokens/${issued.body.id}`).set('Authorization', user.auth).expect(204);
    expect(await codeFor(issued.body.token)).toBe('TOKEN_REVOKED');
    const header = await testApp.http.get('/v1/users/me').set('Authorization', 'Basic YWRhOmxvdmVsYWNl').expect(401);
    expect(header.body.code).toBe('MALFORMED_AUTHORIZATION');
  });

  it('issues a personal token that works until it is revoked', async () => {
    const user = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'ci' })
      .expect(201);
    expect(issued.body).toEqual({ id: expect.any(String), name: 'ci', token: expect.stringMatching(/^dml_/) });

    const me = await testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${issued.body.token}`).expect(200);
    expect(me.body.username).toBe(user.username);

    const list = await testApp.http.get('/v1/users/me/tokens').set('Authorization', user.auth).expect(200);
    expect(list.body.items).toEqual([
      {
        id: issued.body.id,
        name: 'ci',
        prefix: issued.body.token.slice(0, 10),
        createdAt: expect.any(String),
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(issued.body.token);

    await testApp.http.delete(`/v1/users/me/tokens/${issued.body.id}`).set('Authorization', user.auth).expect(204);
    await testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${issued.body.token}`).expect(401);
    const after = await testApp.http.get('/v1/users/me/tokens').set('Authorization', user.auth).expect(200);
    expect(after.body.items[0].revokedAt).toEqual(expect.any(String));
  });

  it("cannot revoke another user's token: 404, and the token keeps working", async () => {
    const owner = await registerAndLogIn(testApp);
    const other = await registerAndLogIn(testApp);
    const issued = await testApp.http
      .post('/v1/users/me/tokens')
      .set('Authorization', owner.auth)
      .send({ name: 'mine' })
      .expect(201);
    const response = await testApp.http
      .delete(`/v1/users/me/tokens/${issued.body.id}`)
      .set('Authorization', other.auth)
      .expect(404);
    expect(response.body.code).toBe('API_TOKEN_NOT_FOUND');
    await testApp.http.get('/v1/users/me').set('Authorization', `Bearer ${issued.body.token}`).expect(200);
    await testApp.http.delete('/v1/users/me/tokens/not-a-uuid').set('Authorization', owner.auth).expect(400);
  });
});

describe('identity across a restart', () => {
  it('keeps users and tokens: the log is durable and read models are rebuilt from it', async () => {
    const first = await startTestApp();
    const user = await registerAndLogIn(first, 'durable');
    const issued = await first.http
      .post('/v1/users/me/tokens')
      .set('Authorization', user.auth)
      .send({ name: 'keep' })
      .expect(201);
    await first.close();

    const second = await startTestApp({ dataDir: first.dataDir });
    await second.http
      .post('/v1/auth/login')
      .send({ username: 'durable', password: 'correct horse battery' })
      .expect(200);
    await second.http.get('/v1/users/me').set('Authorization', user.auth).expect(200);
    await second.http.get('/v1/users/me').set('Authorization', `Bearer ${issued.body.token}`).expect(200);
    await second.destroy();
  });
});
