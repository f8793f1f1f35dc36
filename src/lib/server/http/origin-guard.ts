import type { Handle } from '@sveltejs/kit';
import { isCorsAllowed } from './cors';
import { errorResponse } from './refusals';
import { API_ROUTES } from './route-kinds';

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
	// Pages run form actions on POST only; their other methods get Kit's 405, not a 403.
	const isPageAction =
		event.request.method === 'POST' && event.route.id !== null && !API_ROUTES.has(event.route.id);
	if (origin ? !sameOrigin && !isCorsAllowed(origin) : isPageAction) {
		return errorResponse('CROSS_ORIGIN_FORBIDDEN');
	}
	return resolve(event);
};
