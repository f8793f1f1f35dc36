import type { Handle } from '@sveltejs/kit';
import { isCorsAllowed } from './cors';
import { jsonError } from './errors';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Our replacement for Kit's CSRF check (switched off in svelte.config.js so `curl -F` works).
 * A state-changing request that names an Origin must come from this site or from an origin in
 * CORS_ORIGINS. Requests without an Origin (curl, scripts) may use the API routes, but page
 * form actions require a same-origin browser: browsers always send Origin on a POST.
 */
export const originGuard: Handle = async ({ event, resolve }) => {
	if (SAFE_METHODS.has(event.request.method)) return resolve(event);
	const origin = event.request.headers.get('origin');
	const sameOrigin = origin === event.url.origin;
	const isPageAction = event.route.id !== null && !isApiRoute(event.route.id);
	if (origin ? !sameOrigin && !isCorsAllowed(origin) : isPageAction) {
		return jsonError(403, 'CROSS_ORIGIN_FORBIDDEN', 'Requests from other sites are not accepted.');
	}
	return resolve(event);
};

/** API routes are those served by a +server.ts endpoint (their ids are listed as they land). */
const API_ROUTES = new Set([
	'/health',
	'/upload',
	'/download/[key]',
	'/preview/[key]',
	'/status/[key]'
]);

export function isApiRoute(routeId: string): boolean {
	return API_ROUTES.has(routeId);
}
