import { describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.js';

describe('AddressPolicy', () => {
  const policy = new AddressPolicy();

  it('permits public IPv4 and IPv6 addresses', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect([address, policy.permits(address)]).toEqual([address, true]);
  });

  it('refuses loopback, private, link-local, CGNAT, multicast and reserved IPv4', () => {
    const refused = [
      '127.0.0.1',
      '127.255.0.9',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
    ];
    for (const address of refused) expect([address, policy.permits(address)]).toEqual([address, false]);
    expect(policy.permits('172.32.0.1')).toBe(true);
  });

  it('refuses IPv6 loopback, unspecified, unique-local, link-local, multicast and IPv4 hidden in IPv6', () => {
    const refused = [
      '::1',
      '::',
      'fd12:3456::1',
      'fc00::1',
      'fe80::1',
      'ff02::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      '::ffff:a9fe:a9fe',
      '64:ff9b::7f00:1',
      '2002:7f00:1::1',
    ];
    for (const address of refused) expect([address, policy.permits(address)]).toEqual([address, false]);
  });

  it('refuses what is not an IP address', () => {
    expect(policy.permits('localhost')).toBe(false);
    expect(policy.permits('')).toBe(false);
  });

  it('permits what the allow-list names: addresses and ranges, IPv4 and IPv6', () => {
    const allowing = AddressPolicy.fromSetting('127.0.0.1, 10.0.0.0/8 fd00::/8');
    expect(allowing.permits('127.0.0.1')).toBe(true);
    expect(allowing.permits('::ffff:127.0.0.1')).toBe(true);
    expect(allowing.permits('127.0.0.2')).toBe(false);
    expect(allowing.permits('10.200.0.1')).toBe(true);
    expect(allowing.permits('fd00::5')).toBe(true);
    expect(allowing.permits('192.168.0.1')).toBe(false);
  });

  it('refuses a malformed allow-list at start, naming the entry', () => {
    expect(() => AddressPolicy.fromSetting('localhost')).toThrow('"localhost" is not an IP address');
    expect(() => AddressPolicy.fromSetting('10.0.0.0/33')).toThrow('"10.0.0.0/33"');
    expect(() => AddressPolicy.fromSetting('10.0.0.0/')).toThrow('"10.0.0.0/"');
  });
});
