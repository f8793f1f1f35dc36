/**
 * Who a request counts as, for every limit, block and gate: a client address parsed strictly
 * and folded to the network one subscriber holds.
 *
 * Behind a proxy the address comes from a header (ADDRESS_HEADER) whose text anyone before
 * the proxy may have shaped. Every spelling of one address must count as that address, or a
 * blocked client guesses again as `10.2.0.1:5555`, `010.2.0.1`, `167903233`,
 * `[::ffff:10.2.0.1]` (all found by the hostile audit, issue #12). So: brackets, ports and
 * zones are removed, IPv4 is accepted only as four plain decimal parts, IPv4-mapped IPv6
 * counts as its IPv4 address, ipaddr.js decides the rest, and anything else is no address.
 */
import ipaddr from 'ipaddr.js';

/**
 * The network a client is counted as: an IPv4 address as it is, an IPv6 address by its
 * network of `ipv6PrefixBits` (IPV6_PREFIX): one subscriber usually holds a whole /56 or /64,
 * so counting single IPv6 addresses would let it spread its guesses over 2^64 of them.
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) count as the IPv4 address they carry.
 * Anything that is not an address is returned as it is.
 */
export function clientNetwork(address: string, ipv6PrefixBits: number): string {
	if (!ipaddr.IPv6.isValid(address)) return address;
	const parsed = ipaddr.IPv6.parse(address);
	if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
	const network = ipaddr.IPv6.networkAddressFromCIDR(`${parsed.toString()}/${ipv6PrefixBits}`);
	return `${network.toString()}/${ipv6PrefixBits}`;
}

const BRACKETED = /^\[([^\]]+)\](?::\d{1,5})?$/;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/;

/**
 * A client address as a header or the socket gave it, parsed strictly (see above) and folded
 * to its network; undefined when it is not an address at all.
 */
export function parseClientAddress(raw: string, ipv6PrefixBits: number): string | undefined {
	let text = raw.trim();
	text = BRACKETED.exec(text)?.[1] ?? IPV4_WITH_PORT.exec(text)?.[1] ?? text;
	text = text.replace(/%[\w.-]+$/, ''); // an IPv6 zone (fe80::1%eth0) names no other host
	if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text).toString();
	if (ipaddr.IPv6.isValid(text) && !text.includes('%')) return clientNetwork(text, ipv6PrefixBits);
	return undefined;
}
