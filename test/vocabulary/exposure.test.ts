/** The rule every listener follows: which addresses are loopback, and which Authorization headers carry the token. */
import { describe, expect, it } from 'vitest';
import { bearerProblem, exposureRefusal, isLoopback, tokenFrom } from '../../src/vocabulary/exposure.js';

describe('isLoopback', () => {
  it('is 127.0.0.0/8, ::1 (bracketed or IPv4-mapped too) and localhost', () => {
    for (const h of ['127.0.0.1', '127.255.0.9', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST']) {
      expect(isLoopback(h), h).toBe(true);
    }
  });

  it('is not any address, a LAN address, or a name it would have to resolve', () => {
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', '128.0.0.1', '::ffff:10.0.0.1', 'fe80::1', 'example.com', 'localhost.example.com', '']) {
      expect(isLoopback(h), h).toBe(false);
    }
  });
});

describe('exposureRefusal', () => {
  it('lets loopback go without a token and anything with one; says how to give one otherwise', () => {
    expect(exposureRefusal('127.0.0.1', null, '--host 127.0.0.1')).toBeNull();
    expect(exposureRefusal('0.0.0.0', 't', '--host 0.0.0.0')).toBeNull();
    expect(exposureRefusal('0.0.0.0', null, '--host 0.0.0.0')).toBe(
      '--host 0.0.0.0 is beyond loopback: anyone who can reach it could use it, so it needs a token (--token TOKEN or SRVLENS_TOKEN=TOKEN; e.g. TOKEN=$(openssl rand -hex 16)), or listen on 127.0.0.1',
    );
  });

  it('takes the token from the option, else SRVLENS_TOKEN; empty is none', () => {
    expect(tokenFrom('a', { SRVLENS_TOKEN: 'b' })).toBe('a');
    expect(tokenFrom(undefined, { SRVLENS_TOKEN: 'b' })).toBe('b');
    expect(tokenFrom(undefined, { SRVLENS_TOKEN: '' })).toBeNull();
    expect(tokenFrom('', {})).toBeNull();
  });
});

describe('bearerProblem', () => {
  it('accepts Bearer TOKEN (any case of the scheme) and says what is wrong with anything else', () => {
    expect(bearerProblem('Bearer s3cret', 's3cret')).toBeNull();
    expect(bearerProblem('bearer s3cret', 's3cret')).toBeNull();
    expect(bearerProblem(undefined, 's3cret')).toBe('no Authorization header: send Authorization: Bearer TOKEN');
    expect(bearerProblem('Basic czNjcmV0', 's3cret')).toBe('the Authorization header is not Bearer TOKEN');
    expect(bearerProblem('Bearer s3cre', 's3cret')).toBe('wrong token');
    expect(bearerProblem('Bearer s3cret-and-more', 's3cret')).toBe('wrong token');
  });
});
