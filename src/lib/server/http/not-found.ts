import type { Handle } from '@sveltejs/kit';
import { ERRORS } from '../../errors';
import { errorResponse } from './refusals';
import { API_ROUTES } from './route-kinds';

/**
 * Kit's own refusals in our JSON error shape. Unknown paths answer JSON for API clients
 * (curl, monitors) and Kit's error page for browsers, which ask for text/html. A method a
 * route does not export gets Kit's plain-text 405, which becomes
 * `{"error_code": "METHOD_NOT_ALLOWED", ...}` with Kit's `Allow` header kept. An unexpected
 * error in an API route is rendered by Kit as an HTML page unless the client asked for JSON;
 * API clients get the JSON of handleError instead.
 */
export const jsonNotFound: Handle = async ({ event, resolve }) => {
	const wantsHtml = event.request.headers.get('accept')?.includes('text/html') ?? false;
	if (event.route.id === null && !wantsHtml) {
		return errorResponse('NOT_FOUND');
	}
	const response = await resolve(event);
	const isHtml = response.headers.get('content-type')?.includes('text/html') ?? false;
	if (
		response.status >= 500 &&
		isHtml &&
		event.route.id !== null &&
		API_ROUTES.has(event.route.id)
	) {
		const detail = ERRORS.INTERNAL_ERROR.detail;
		return Response.json(
			{ message: detail, error_code: 'INTERNAL_ERROR', detail, request_id: event.locals.requestId },
			{ status: response.status }
		);
	}
	const isKitRefusal =
		response.status === 405 && !response.headers.get('content-type')?.includes('application/json');
	if (!isKitRefusal) return response;
	const allow = response.headers.get('allow');
	return errorResponse(
		'METHOD_NOT_ALLOWED',
		`${event.request.method} is not allowed here${allow ? `; use ${allow}` : ''}.`,
		allow ? { Allow: allow } : {}
	);
};
