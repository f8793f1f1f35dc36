import type { Handle } from '@sveltejs/kit';
import { clientAddress, type LimitDecision } from '../limits';
import { refuse } from '../refusal';
import { services } from '../services';
import { StoreUnavailableError } from '../store';
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
 * HEALTH_RATE_LIMIT on /health/, UPLOAD_RATE_LIMIT on uploads, and the brute-force block on
 * every lookup route, per client address. When the store is away the limits on uploads and
 * lookups fail closed (503): they cannot be enforced, so nothing is allowed unlimited.
 */
export const rateLimit: Handle = async ({ event, resolve }) => {
	const kind = limitKind(event.route.id, event.request.method);
	if (!kind) return resolve(event);
	let decision: LimitDecision;
	try {
		const { limits } = services();
		const address = clientAddress(event);
		decision = await (kind === 'lookup' ? limits.lookupBlock(address) : limits[kind](address));
	} catch (error) {
		if (!(error instanceof StoreUnavailableError)) throw error;
		decision = refuse('STORE_UNAVAILABLE');
	}
	if (!decision.ok) return refusalFor(event.request, decision, pageFor(event.route.id));
	return withHeaders(await resolve(event), decision.headers);
};
