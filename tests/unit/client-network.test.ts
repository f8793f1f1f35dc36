import { describe, expect, it } from 'vitest';
import { clientNetwork } from '../../src/lib/server/limits';

describe('clientNetwork: who a request counts as', () => {
	it('keeps an IPv4 address as it is', () => {
		expect(clientNetwork('192.0.2.7')).toBe('192.0.2.7');
	});

	it('counts an IPv6 address by its /64, however it is written', () => {
		const network = clientNetwork('2001:db8:1:2::1');
		expect(network).toBe('2001:db8:1:2::/64');
		expect(clientNetwork('2001:0db8:0001:0002:ffff:eeee:dddd:cccc')).toBe(network);
		expect(clientNetwork('2001:db8:1:3::1')).not.toBe(network);
	});

	it('counts an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
		expect(clientNetwork('::ffff:192.0.2.7')).toBe('192.0.2.7');
	});

	it('leaves anything else alone', () => {
		expect(clientNetwork('unknown')).toBe('unknown');
	});
});
