import type { Handle } from '@sveltejs/kit';
import {
	checkLookupBlock,
	clientAddress,
	limitHealthCheck,
	limitUpload,
	lookupBlockedDetail,
	type LimitDecision
} from '../limits';
import { StoreUnavailableError } from '../store';
import { isBrowserFormPost, redirectWithRefusal } from './browser-refusal';
import { jsonError } from './errors';
import { withHeaders } from './request-id';
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
function pageFor(routeId: string | null): '/' | '/r' | undefined {
	if (routeId === '/') return '/';
	if (routeId === '/r' || routeId === '/download') return '/r';
	return undefined;
}

type Check = {
	decide: (address: string) => Promise<LimitDecision>;
	refusal: (seconds: number) => string;
	code: string;
};

function checkFor(routeId: string | null, method: string): Check | undefined {
	const kind = limitKind(routeId, method);
	if (kind === 'health') {
		return {
			decide: limitHealthCheck,
			code: 'RATE_LIMITED',
			refusal: (s) => `Too many health checks from this address. Try again in ${s} s.`
		};
	}
	if (kind === 'upload') {
		return {
			decide: limitUpload,
			code: 'RATE_LIMITED',
			refusal: (s) => `Too many uploads from this address. Try again in ${s} s.`
		};
	}
	if (kind === 'lookup') {
		return {
			decide: checkLookupBlock,
			code: 'TOO_MANY_FAILED_LOOKUPS',
			refusal: lookupBlockedDetail
		};
	}
	return undefined;
}

/**
 * HEALTH_RATE_LIMIT on /health/, UPLOAD_RATE_LIMIT on uploads, and the brute-force block on
 * every lookup route, per client address. When the store is away the limits on uploads and
 * lookups fail closed (503): they cannot be enforced, so nothing is allowed unlimited.
 */
export const rateLimit: Handle = async ({ event, resolve }) => {
	const check = checkFor(event.route.id, event.request.method);
	if (!check) return resolve(event);
	let decision: LimitDecision;
	try {
		decision = await check.decide(clientAddress(event));
	} catch (error) {
		if (!(error instanceof StoreUnavailableError)) throw error;
		return jsonError(
			503,
			'STORE_UNAVAILABLE',
			'The service cannot reach its database right now. Try again shortly.'
		);
	}
	if (!decision.allowed) {
		const page = pageFor(event.route.id);
		if (page && isBrowserFormPost(event.request)) {
			return redirectWithRefusal(page, check.code, decision.retryAfterSeconds);
		}
		return jsonError(429, check.code, check.refusal(decision.retryAfterSeconds), {
			headers: decision.headers
		});
	}
	return withHeaders(await resolve(event), decision.headers);
};
