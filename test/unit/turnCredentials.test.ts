import { expect, test } from 'vitest';
import { eachReturns } from '../helpers/table.ts';
import { isTurnUrl, turnCredentials } from '../../src/auth/turnCredentials.ts';

// coturn's REST scheme (--use-auth-secret): username "<expiry>:<identity>", password
// base64(HMAC-SHA1(secret, username)).

test('credentials name their expiry and are the HMAC-SHA1 of the username under the secret', () => {
  const settings = { urls: ['turn:10.0.0.1:3478?transport=udp'], secret: 'north', ttlSeconds: 3600 };
  const server = turnCredentials(settings, 'a1b2c3d4', 1_796_000_000_500);
  expect(server).toEqual({
    urls: ['turn:10.0.0.1:3478?transport=udp'],
    username: '1796003600:a1b2c3d4',
    // Computed apart with: printf %s 1796003600:a1b2c3d4 | openssl dgst -sha1 -hmac north -binary | base64
    credential: 'gKkHEt39EDPepXPkJaWl/n3gOhU=',
  });
});

test("an identity's separators cannot move coturn's idea of the expiry", () => {
  const server = turnCredentials({ urls: ['turn:x'], secret: 's', ttlSeconds: 60 }, '99999999999:me', 0);
  expect(server.username).toBe('60:99999999999_me');
});

eachReturns('isTurnUrl(%j) is %j', isTurnUrl, [
  ['turn:turn.example.com', true],
  ['turn:10.0.0.1:3478?transport=udp', true],
  ['turns:turn.example.com:5349?transport=tcp', true],
  ['stun:stun.example.com', false],
  ['turn:host?transport=sctp', false],
  ['https://turn.example.com', false],
  ['turn: spaced', false],
]);
