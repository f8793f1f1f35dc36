import type { Handle } from '@sveltejs/kit';
import type { LimitDecision } from '../limits';
import { refuse } from '../refusal';
import { services } from '../services';
import { StoreUnavailableError } from '../store';
import { readClientAddress } from './client-address';
import { withHeaders } from './headers';
import { refusalFor, type PagePath } from './refusals';
import { LOOKUP_PAGES, LOOKUP_ROUTES, UPLOAD_ROUTES } from './route-kinds';

/** Which limit a request counts against, if any (exported for the handle's unit tests). */
export function limitKind(
	routeId: string | null,
	method: string
): 'health' | 'upload' | 'lookup' | undefined {
	if (routeId === null) return undefined;
	if (routeId === '/health') return 'health';
	if (UPLOAD_ROUTES.has(routeId) && method === 'POST') return 'upload';
	if (LOOKUP_ROUTES.has(routeId)) return 'lookup';
	// A page's GET only renders the form; its POST (the form action) is the lookup.
	if (LOOKUP_PAGES.has(routeId) && method === 'POST') return 'lookup';
	return undefined;
}

/** The page a browser form on this route belongs to, to be sent back to when refused. */
function pageFor(routeId: string | null): PagePath | undefined {
	if (routeId === '/') return '/';
	if (routeId === '/r' || routeId === '/download') return '/r';
	return undefined;
}

/**
 * HEALTH_RATE_LIMIT on /health/, UPLOAD_RATE_LIMIT and REFUSED_UPLOAD_LIMIT (checked, not
 * counted: drops.ts counts an upload once it costs something) on uploads, and on every lookup route
 * LOOKUP_RATE_LIMIT and then the brute-force block, per client. When the store is away the
 * limits on uploads and lookups fail closed (503): they cannot be enforced, so nothing is
 * allowed unlimited. A request whose client address cannot be read (ADDRESS_HEADER missing or
 * not an address) is refused (400), except health checks, which share one bucket.
 */
export const rateLimit: Handle = async ({ event, resolve }) => {
	const kind = limitKind(event.route.id, event.request.method);
	if (!kind) return resolve(event);
	const address = readClientAddress(event) ?? (kind === 'health' ? 'unknown' : undefined);
	const page = pageFor(event.route.id);
	if (address === undefined) {
		return refusalFor(event.request, refuse('INVALID_CLIENT_ADDRESS'), page);
	}
	let decision: LimitDecision;
	try {
		decision = await decide(kind, address);
	} catch (error) {
		if (!(error instanceof StoreUnavailableError)) throw error;
		decision = refuse('STORE_UNAVAILABLE');
	}
	if (!decision.ok) return refusalFor(event.request, decision, page);
	return withHeaders(await resolve(event), decision.headers);
};

async function decide(kind: 'health' | 'upload' | 'lookup', address: string) {
	const { limits } = services();
	if (kind === 'health') return limits.health(address);
	// Checked, not counted: the upload counts itself once it costs something (drops.ts).
	if (kind === 'upload') return limits.uploadAllowed(address);
	// Every lookup is counted, found or not; then a client blocked for its failures is refused.
	return limits.lookupAndBlock(address);
}
