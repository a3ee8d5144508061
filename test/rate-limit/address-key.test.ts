import { describe, expect, it } from 'vitest';
import { rateLimitKey } from '../../src/rate-limit/address-key.js';

describe('rateLimitKey', () => {
  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['::FFFF:203.0.113.9', '203.0.113.9'],
    ['::ffff:cb00:7109', '203.0.113.9'],
    ['0:0:0:0:0:ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::'],
    ['2001:0db8:0001:0002:ffff:ffff:ffff:ffff', '2001:db8:1:2::'],
    ['2001:db8:1:2::', '2001:db8:1:2::'],
    ['2001:db8::1', '2001:db8::'],
    ['2001:DB8:A::1', '2001:db8:a::'],
    ['2001:db8:1::2:3:4', '2001:db8:1::'],
    ['2001:db8:1:2:3::', '2001:db8:1:2::'],
    ['::1', '::'],
    ['::', '::'],
    ['fe80::1%eth0', 'fe80::'],
    ['fe80::abcd%25', 'fe80::'],
    ['64:ff9b::203.0.113.9', '64:ff9b::'],
    ['::203.0.113.9', '::'],
    ['', ''],
    ['Not An Address', 'not an address'],
    ['2001:db8::1::2', '2001:db8::1::2'],
  ])('%j → %j', (ip, key) => {
    expect(rateLimitKey(ip)).toBe(key);
  });

  it('gives every address of one /64 the same key and a neighbouring /64 another', () => {
    expect(rateLimitKey('2001:db8:1:2::1')).toBe(rateLimitKey('2001:db8:1:2:ffff:ffff:ffff:fffe'));
    expect(rateLimitKey('2001:db8:1:2::1')).not.toBe(rateLimitKey('2001:db8:1:3::1'));
  });
});
