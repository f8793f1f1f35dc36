import type { Handle } from '@sveltejs/kit';
import { jsonError } from './errors';

/**
 * Kit's own refusals in our JSON error shape. Unknown paths answer JSON for API clients
 * (curl, monitors) and Kit's error page for browsers, which ask for text/html. A method a
 * route does not export gets Kit's plain-text 405, which becomes
 * `{"error_code": "METHOD_NOT_ALLOWED", ...}` with Kit's `Allow` header kept.
 */
export const jsonNotFound: Handle = async ({ event, resolve }) => {
	const wantsHtml = event.request.headers.get('accept')?.includes('text/html') ?? false;
	if (event.route.id === null && !wantsHtml) {
		return jsonError(404, 'NOT_FOUND', 'There is nothing at this address.');
	}
	const response = await resolve(event);
	const isKitRefusal =
		response.status === 405 && !response.headers.get('content-type')?.includes('application/json');
	if (!isKitRefusal) return response;
	const allow = response.headers.get('allow');
	return jsonError(
		405,
		'METHOD_NOT_ALLOWED',
		`${event.request.method} is not allowed here${allow ? `; use ${allow}` : ''}.`,
		{ headers: allow ? { Allow: allow } : {} }
	);
};
