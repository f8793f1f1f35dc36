import { describe, expect, it } from 'vitest';
import { clientNetwork, parseClientAddress } from '../../src/lib/server/client-network';

describe('clientNetwork: who a request counts as', () => {
	it('keeps an IPv4 address as it is', () => {
		expect(clientNetwork('192.0.2.7', 64)).toBe('192.0.2.7');
	});

	it('counts an IPv6 address by its /64, however it is written', () => {
		const network = clientNetwork('2001:db8:1:2::1', 64);
		expect(network).toBe('2001:db8:1:2::/64');
		expect(clientNetwork('2001:0db8:0001:0002:ffff:eeee:dddd:cccc', 64)).toBe(network);
		expect(clientNetwork('2001:db8:1:3::1', 64)).not.toBe(network);
	});

	it('counts an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
		expect(clientNetwork('::ffff:192.0.2.7', 64)).toBe('192.0.2.7');
	});

	it('leaves anything else alone', () => {
		expect(clientNetwork('unknown', 64)).toBe('unknown');
	});
});

describe('IPV6_PREFIX: an IPv6 client is counted by the network its ISP gives it', () => {
	it('at 56 bits (the default), the /64s of one /56 are one client', () => {
		expect(clientNetwork('2001:db8:1:2::1', 56)).toBe('2001:db8:1::/56');
		expect(clientNetwork('2001:db8:1:ff::1', 56)).toBe('2001:db8:1::/56');
		expect(clientNetwork('2001:db8:1:100::1', 56)).not.toBe('2001:db8:1::/56');
	});
});

describe('parseClientAddress: every spelling of one address is that address', () => {
	it.each([
		['10.2.0.1', '10.2.0.1'],
		['10.2.0.1:5555', '10.2.0.1'],
		['[::ffff:10.2.0.1]', '10.2.0.1'],
		['[::ffff:10.2.0.1]:443', '10.2.0.1'],
		['::ffff:10.2.0.1', '10.2.0.1'],
		[' 10.2.0.1 ', '10.2.0.1'],
		['[2001:db8::1]:443', '2001:db8::/56'],
		['2001:DB8:0:0::1', '2001:db8::/56'],
		['fe80::1%eth0', 'fe80::/56']
	])('%s counts as %s', (raw, expected) => {
		expect(parseClientAddress(raw, 56)).toBe(expected);
	});

	it.each(['010.2.0.1', '167903233', '0x0a.2.0.1', '10.2.1', 'unknown', '', '10.2.0.1, 10.9.9.9'])(
		'%s is not an address',
		(raw) => {
			expect(parseClientAddress(raw, 56)).toBeUndefined();
		}
	);
});
