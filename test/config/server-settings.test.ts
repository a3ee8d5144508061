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

describe('server settings', () => {
  it('default to no trusted proxy, a 10 s request timeout, 72 s keep-alive and 1000 connections', () => {
    const config = loadConfig(env());
    expect(config.trustProxy).toBe(false);
    expect(config.httpServer).toEqual({ requestTimeout: 10, keepAliveTimeout: 72, maxConnections: 1000 });
  });

  it('reach Fastify through serverOptions, in milliseconds', () => {
    const config = loadConfig(env({ TRUST_PROXY: '10.0.0.0/8', REQUEST_TIMEOUT: '5s', KEEP_ALIVE_TIMEOUT: '1m' }));
    const options = serverOptions(config);
    expect(options).toMatchObject({ trustProxy: ['10.0.0.0/8'], requestTimeout: 5000, keepAliveTimeout: 60_000, return503OnClosing: false });
    // Node never times out a stalled body when headersTimeout exceeds requestTimeout.
    expect(options.http.headersTimeout).toBeLessThanOrEqual(options.requestTimeout);
    expect(options.connectionTimeout).toBeGreaterThan(options.requestTimeout);
  });

  describe('TRUST_PROXY', () => {
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
      ['1', 1],
      ['2', 2],
    ])('reads %j', (value, expected) => {
      const config = loadConfig(env({ TRUST_PROXY: value }));
      expect(config.trustProxy).toEqual(expected);
      // Fastify (proxy-addr) takes every value we accept.
      expect(() => Fastify(serverOptions({ ...config, logLevel: 'silent' }))).not.toThrow();
    });

    it.each([
      ['true', /any client|directly/],
      ['0', /1 to 10/],
      ['11', /1 to 10/],
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

  describe.each([
    ['REQUEST_TIMEOUT', (value: string) => loadConfig(env({ REQUEST_TIMEOUT: value })).httpServer.requestTimeout],
    ['KEEP_ALIVE_TIMEOUT', (value: string) => loadConfig(env({ KEEP_ALIVE_TIMEOUT: value })).httpServer.keepAliveTimeout],
  ])('%s', (variable, read) => {
    it.each([
      ['30', 30],
      ['30s', 30],
      ['2m', 120],
      ['1h', 3600],
    ])('reads %j as %i seconds', (value, seconds) => {
      expect(read(value)).toBe(seconds);
    });

    it.each(['0', '0s', '10x', '-5', '2h', '1d'])('refuses %j', (value) => {
      expectRefusal({ [variable]: value }, variable);
    });
  });

  describe('MAX_CONNECTIONS', () => {
    it('reads a number of connections', () => {
      expect(loadConfig(env({ MAX_CONNECTIONS: '50' })).httpServer.maxConnections).toBe(50);
    });

    it.each(['0', '-1', 'lots', '1e3', '12.5', '99999999'])('refuses %j', (value) => {
      expectRefusal({ MAX_CONNECTIONS: value }, 'MAX_CONNECTIONS');
    });
  });
});
