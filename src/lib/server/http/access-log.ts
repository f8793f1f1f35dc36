import type { Handle } from '@sveltejs/kit';
import { log } from '../log';

/** Route ids, never raw URLs, go in the log: a URL can carry a passphrase. */
export function loggedPath(routeId: string | null): string {
	return routeId ?? '(unmatched)';
}

/** One access line per request that Kit handles (static assets: see server/index.js). */
export const accessLog: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	log().info({
		event: 'request',
		request_id: event.locals.requestId,
		method: event.request.method,
		path: loggedPath(event.route.id),
		status_code: response.status,
		duration: Math.round((performance.now() - event.locals.startedAt) * 100) / 100
	});
	return response;
};
