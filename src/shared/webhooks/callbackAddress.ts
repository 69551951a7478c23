import dns from 'node:dns';
import ipaddr from 'ipaddr.js';

export class CallbackRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CallbackRefused';
  }
}

/** The address a callback connects to: resolved once, checked, then used for the connection. */
export interface CallbackTarget {
  url: URL;
  address: string;
  family: number;
}

/** ipaddr.js's range of an address ('unicast' is the public internet); IPv4-mapped IPv6 counts as IPv4. */
export function addressRange(ip: string): string {
  return ipaddr.process(ip).range();
}

/**
 * Resolves the callback's host and refuses loopback, private, link-local (cloud metadata)
 * and every other non-public range unless allowPrivate. Every resolved address must pass,
 * and the connection then goes to the checked address, so DNS cannot swap it in between.
 */
export async function resolveCallback(callbackUrl: string, allowPrivate: boolean): Promise<CallbackTarget> {
  const url = new URL(callbackUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CallbackRefused(`callback to ${url.host} is ${url.protocol.replace(/:$/, '')}, not http or https`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  if (addresses.length === 0) throw new Error(`callback host ${host} has no address`);
  if (!allowPrivate) {
    for (const a of addresses) {
      const range = addressRange(a.address);
      if (range !== 'unicast') {
        throw new CallbackRefused(`callback ${url.host} resolves to ${a.address} (${range}): refused; WEBHOOK_ALLOW_PRIVATE=true allows it`);
      }
    }
  }
  return { url, address: addresses[0]!.address, family: addresses[0]!.family };
}
