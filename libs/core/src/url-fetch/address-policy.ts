import { BlockList, isIP } from 'node:net';

/**
 * Ranges a server-side fetch must not reach unless allowed: loopback, private, link-local, shared (CGNAT),
 * documentation, benchmarking, multicast and reserved addresses, and the IPv6 forms that embed or translate
 * IPv4 (NAT64, 6to4, Teredo). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as their IPv4 address.
 */
const REFUSED_RANGES: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['0.0.0.0', 8, 'ipv4'],
  ['10.0.0.0', 8, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['127.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.0.0.0', 24, 'ipv4'],
  ['192.0.2.0', 24, 'ipv4'],
  ['192.88.99.0', 24, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['198.18.0.0', 15, 'ipv4'],
  ['198.51.100.0', 24, 'ipv4'],
  ['203.0.113.0', 24, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 128, 'ipv6'],
  ['::1', 128, 'ipv6'],
  ['64:ff9b::', 96, 'ipv6'],
  ['64:ff9b:1::', 48, 'ipv6'],
  ['100::', 64, 'ipv6'],
  ['2001::', 32, 'ipv6'],
  ['2001:db8::', 32, 'ipv6'],
  ['2002::', 16, 'ipv6'],
  ['fc00::', 7, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['fec0::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
];

function familyOf(address: string): 'ipv4' | 'ipv6' | null {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : null;
}

/** Which addresses a server-side fetch may connect to. */
export class AddressPolicy {
  private readonly refused = new BlockList();
  private readonly allowed = new BlockList();

  /** `allowList`: addresses or CIDR ranges (`127.0.0.1`, `10.0.0.0/8`, `fd00::/8`) allowed although refused by default. */
  constructor(allowList: readonly string[] = []) {
    for (const [network, prefix, type] of REFUSED_RANGES) this.refused.addSubnet(network, prefix, type);
    for (const entry of allowList) {
      const [address, prefix, ...rest] = entry.split('/');
      const type = familyOf(address);
      const bits = prefix === undefined ? undefined : Number(prefix);
      const maxBits = type === 'ipv4' ? 32 : 128;
      if (
        !type ||
        rest.length > 0 ||
        (bits !== undefined && (!Number.isInteger(bits) || bits < 0 || bits > maxBits || prefix === ''))
      ) {
        throw new Error(
          `URL_FETCH_ALLOWED_ADDRESSES: "${entry}" is not an IP address or CIDR range (e.g. 127.0.0.1 or 10.0.0.0/8).`,
        );
      }
      if (bits === undefined) this.allowed.addAddress(address, type);
      else this.allowed.addSubnet(address, bits, type);
    }
  }

  /** Parses the setting: entries separated by commas or spaces. */
  static fromSetting(value: string | undefined): AddressPolicy {
    return new AddressPolicy((value ?? '').split(/[\s,]+/).filter(Boolean));
  }

  /** Whether a fetch may connect to this IP address (false for anything that is not one). */
  permits(address: string): boolean {
    const type = familyOf(address);
    if (!type) return false;
    if (this.allowed.check(address, type)) return true;
    return !this.refused.check(address, type);
  }
}
