import type { Handle } from '@sveltejs/kit';
import { getConfig } from '../config';
import { withHeaders } from './headers';

const ALLOWED_METHODS = 'GET, POST';
const ALLOWED_HEADERS = 'Content-Type, Accept, X-Access-Key';
const EXPOSED_HEADERS = [
	'X-SHA256',
	'Content-Disposition',
	'X-Remaining-Uses',
	'X-Request-ID',
	'Retry-After',
	'RateLimit-Limit',
	'RateLimit-Remaining',
	'RateLimit-Reset'
].join(', ');

/** Whether a browser page from `origin` may read our responses (CORS_ORIGINS; empty = none). */
export function isCorsAllowed(origin: string | null): origin is string {
	if (!origin) return false;
	const { corsOrigins } = getConfig();
	return corsOrigins.includes('*') || corsOrigins.includes(origin);
}

/**
 * Whether `origin` is named in CORS_ORIGINS itself. `*` does not count: it lets any page read
 * the answers, but it is no choice of a site to trust with its visitors' guesses.
 */
export function isListedCorsOrigin(origin: string | null): origin is string {
	return origin !== null && getConfig().corsOrigins.includes(origin);
}

/**
 * CORS for the origins in CORS_ORIGINS only. The default is none: with the seed's `*`, any
 * web page could use its visitors' browsers and addresses to guess passphrases and read the
 * answers. Preflights from other origins get a plain 204 without CORS headers, which the
 * browser treats as a refusal.
 */
export const cors: Handle = async ({ event, resolve }) => {
	const origin = event.request.headers.get('origin');
	const allowed = isCorsAllowed(origin);
	const headers: Record<string, string> = allowed
		? {
				'Access-Control-Allow-Origin': getConfig().corsOrigins.includes('*') ? '*' : origin,
				'Access-Control-Expose-Headers': EXPOSED_HEADERS,
				Vary: 'Origin'
			}
		: {};

	const isPreflight =
		event.request.method === 'OPTIONS' &&
		event.request.headers.has('access-control-request-method');
	if (isPreflight) {
		const preflight = allowed
			? {
					...headers,
					'Access-Control-Allow-Methods': ALLOWED_METHODS,
					'Access-Control-Allow-Headers': ALLOWED_HEADERS,
					'Access-Control-Max-Age': '600'
				}
			: {};
		return new Response(null, { status: 204, headers: preflight });
	}
	const response = await resolve(event);
	return allowed ? withHeaders(response, headers) : response;
};
