import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { serverOptions } from '../../src/server-options.js';

/** An environment that loads cleanly, writing nothing (DATA_DIR is only resolved). */
const env = (overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  DATA_DIR: '/nonexistent/versioned-auth-config-test',
  JWT_ACCESS_SECRET: 'access-secret-for-config-tests-0123456789',
  JWT_REFRESH_SECRET: 'refresh-secret-for-config-tests-0123456789',
  ...overrides,
});

function expectRefusal(overrides: NodeJS.ProcessEnv, variable: string): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env(overrides));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  const error = thrown as ConfigError;
  expect(error.variable).toBe(variable);
  expect(error.message).toContain(variable);
  expect(error.message).not.toMatch(/[\r\n]/);
  return error;
}

describe('TRUST_PROXY', () => {
  it('default to no trusted proxy', () => {
    expect(loadConfig(env()).trustProxy).toBe(false);
  });

  describe('values', () => {
    it.each([
      ['false', false],
      ['FALSE', false],
      ['', false],
      ['10.0.0.7', ['10.0.0.7']],
      ['10.0.0.0/8, 192.168.1.1', ['10.0.0.0/8', '192.168.1.1']],
      ['172.16.0.0/12,fc00::/7', ['172.16.0.0/12', 'fc00::/7']],
      ['::1', ['::1']],
      ['2001:db8::/32', ['2001:db8::/32']],
      ['10.1.2.3/32', ['10.1.2.3/32']],
      ['loopback, linklocal, uniquelocal', ['loopback', 'linklocal', 'uniquelocal']],
    ])('reads %j', (value, expected) => {
      const config = loadConfig(env({ TRUST_PROXY: value }));
      expect(config.trustProxy).toEqual(expected);
      // Fastify (proxy-addr) takes every value we accept.
      expect(() => Fastify(serverOptions({ ...config, logLevel: 'silent' }))).not.toThrow();
    });

    it.each([
      ['true', /any client|directly/],
      ['1', /directly/],
      ['2', /directly/],
      ['0.0.0.0/0', /not an IP address/],
      ['::/0', /not an IP address/],
      ['10.0.0.0/33', /not an IP address/],
      ['2001:db8::/129', /not an IP address/],
      ['10.0.0.0/', /not an IP address/],
      ['10.0.0.0/8/9', /not an IP address/],
      ['10.0.0.0/-1', /not an IP address/],
      ['proxy.example.com', /not an IP address/],
      ['10.0.0.1,', /not an IP address/],
      ['10.0.0.256', /not an IP address/],
      ['fe80::1%eth0', /not an IP address/],
      ['private', /not an IP address/],
    ])('refuses %j, naming TRUST_PROXY', (value, message) => {
      expect(expectRefusal({ TRUST_PROXY: value }, 'TRUST_PROXY').message).toMatch(message);
    });
  });
});
