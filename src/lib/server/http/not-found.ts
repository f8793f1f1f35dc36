import type { Handle } from '@sveltejs/kit';
import { jsonError } from './errors';

/**
 * Unknown paths answer JSON for API clients (curl, monitors) and Kit's error page for
 * browsers, which ask for text/html.
 */
export const jsonNotFound: Handle = async ({ event, resolve }) => {
	const wantsHtml = event.request.headers.get('accept')?.includes('text/html') ?? false;
	if (event.route.id === null && !wantsHtml) {
		return jsonError(404, 'NOT_FOUND', 'There is nothing at this address.');
	}
	return resolve(event);
};
