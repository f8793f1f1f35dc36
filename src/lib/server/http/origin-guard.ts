import type { Handle } from '@sveltejs/kit';
import { services } from '../services';
import { isCorsAllowed } from './cors';
import { errorResponse } from './refusals';
import { API_ROUTES, LOOKUP_PAGES, LOOKUP_ROUTES } from './route-kinds';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Our replacement for Kit's CSRF check (switched off in svelte.config.js so `curl -F` works).
 * A state-changing request that names an Origin must come from this site or from an origin in
 * CORS_ORIGINS. Requests without an Origin (curl, scripts) may use the API routes, but page
 * form actions require a same-origin browser: browsers always send Origin on a POST.
 */
export const originGuard: Handle = async ({ event, resolve }) => {
	if (isEmbeddedCrossSiteLookup(event.request, event.route.id)) {
		return errorResponse(
			'CROSS_ORIGIN_FORBIDDEN',
			'Lookups embedded in other sites (frames, images, scripts, fetches) are not accepted.'
		);
	}
	if (SAFE_METHODS.has(event.request.method)) return resolve(event);
	const origin = event.request.headers.get('origin');
	const sameOrigin = origin === event.url.origin;
	// Pages run form actions on POST only; their other methods get Kit's 405, not a 403.
	const isPageAction =
		event.request.method === 'POST' && event.route.id !== null && !API_ROUTES.has(event.route.id);
	if (origin ? !sameOrigin && !isCorsAllowed(origin) : isPageAction) {
		return errorResponse('CROSS_ORIGIN_FORBIDDEN');
	}
	return resolve(event);
};

/**
 * A lookup another site's page made its visitor's browser send without the visitor asking for
 * it: `Sec-Fetch-Site: cross-site` and either a `Sec-Fetch-Mode` other than `navigate` (an
 * `<img>`, a `fetch`) or a navigation into something other than a top-level document
 * (`Sec-Fetch-Dest` `iframe`, `frame`, `object`, `embed`). X-Frame-Options stops a framed
 * answer from showing, but not the lookup behind it: ten hidden `<iframe src=/download/…>` on
 * page load used to count ten failures and block the visitor without a click. Refused before
 * any work, so a hostile page cannot spend its visitors' guesses. These headers can be forged
 * by any other client, so they only ever make the service refuse more: a request without them
 * (curl, an older browser) is treated as before, and a link followed to a download (`navigate`
 * into a `document`) still works.
 */
function isEmbeddedCrossSiteLookup(request: Request, routeId: string | null): boolean {
	if (routeId === null || !(LOOKUP_ROUTES.has(routeId) || LOOKUP_PAGES.has(routeId))) return false;
	if (request.headers.get('sec-fetch-site') !== 'cross-site') return false;
	if (request.headers.get('sec-fetch-mode') !== 'navigate') return true;
	const dest = request.headers.get('sec-fetch-dest');
	return dest !== null && dest !== 'document';
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/**
 * With ORIGIN set, a request for another host name is refused with 421 (a forged `Host`, DNS
 * rebinding, a proxy that forwards what it should not). Loopback hosts stay allowed, so that
 * container health checks (`http://127.0.0.1:3000/health/`) keep working. Without ORIGIN the
 * links are built from the `Host` each client sends, which start-up warns about.
 */
export const hostGuard: Handle = async ({ event, resolve }) => {
	const { origin } = services().config;
	if (!origin) return resolve(event);
	const host = event.request.headers.get('host') ?? '';
	if (host.toLowerCase() === new URL(origin).host || LOOPBACK_HOST.test(host)) {
		return resolve(event);
	}
	return errorResponse('MISDIRECTED_REQUEST');
};
