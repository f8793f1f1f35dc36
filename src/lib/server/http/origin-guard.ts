import type { Handle } from '@sveltejs/kit';
import { services } from '../services';
import { isCorsAllowed, isListedCorsOrigin } from './cors';
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
	if (isCrossSiteLookup(event.request, event.route.id)) {
		return errorResponse(
			'CROSS_ORIGIN_FORBIDDEN',
			'Lookups sent from other sites (links, frames, images, scripts) are not accepted: open the address yourself, or use the share link (/r#…).'
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
 * A lookup another site's page can make its visitor's browser send, refused before any work
 * so that a hostile page cannot spend its visitors' guesses and get them (or their whole
 * office, behind one address) blocked:
 *
 * - on the lookup API routes, anything with `Sec-Fetch-Site: cross-site`, top-level
 *   navigations included. An `<img>` or a `fetch` needs no click; ten hidden
 *   `<iframe src=/download/…>` need none either (X-Frame-Options stops the answer from
 *   showing, not the lookup behind it); and a page that opened a window on one click can
 *   navigate it from guess to guess until our first answer arrives: Cross-Origin-Opener-Policy
 *   cuts it off only then, and Chromium sent all of 12 navigations 20 to 200 ms apart before
 *   that (tests/e2e/hostile-pages.spec.ts). A link on another site straight to
 *   `/download/<passphrase>` is refused for the same reason; opened from the address bar, a
 *   bookmark, another application or our own pages it works, and share links go to `/r#…`.
 * - on the lookup pages (`/r`, which looks nothing up on GET), a cross-site load other than a
 *   top-level one: a frame, an image. Following a share link from another site still works.
 *
 * These headers can be forged by any other client, so they only ever make the service refuse
 * more: a request without them (curl, scripts, an older browser) is treated as before.
 */
function isCrossSiteLookup(request: Request, routeId: string | null): boolean {
	if (routeId === null || request.headers.get('sec-fetch-site') !== 'cross-site') return false;
	// A page of an origin the operator named in CORS_ORIGINS calls the API on purpose (a CORS
	// fetch names its Origin; navigations and `<img>` send none on GET): that is what the
	// setting is for. Not with `*`: then every site could spend its visitors' guesses.
	if (isListedCorsOrigin(request.headers.get('origin'))) return false;
	if (LOOKUP_ROUTES.has(routeId)) return true;
	if (!LOOKUP_PAGES.has(routeId)) return false;
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
