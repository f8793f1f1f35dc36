import type { RequestEvent } from '@sveltejs/kit';
import { parseClientAddress } from '../client-network';
import { services } from '../services';

/**
 * Who a request counts as (client-network.ts): the address adapter-node sees (the TCP peer,
 * or ADDRESS_HEADER/XFF_DEPTH when configured), parsed strictly and folded to its network.
 * Undefined when there is none or it is not an address (a missing or forged header).
 */
export function readClientAddress(event: RequestEvent): string | undefined {
	let raw: string;
	try {
		raw = event.getClientAddress();
	} catch {
		return undefined; // adapter-node throws when ADDRESS_HEADER is set but absent
	}
	return parseClientAddress(raw, services().config.ipv6Prefix);
}

/**
 * The client a lookup counts as. The rate-limit handle has already refused a request without
 * a usable address (400), so routes behind it always get one; 'unknown' is a shared bucket
 * for what the handle lets through without one (nothing today).
 */
export function clientAddress(event: RequestEvent): string {
	return readClientAddress(event) ?? 'unknown';
}
