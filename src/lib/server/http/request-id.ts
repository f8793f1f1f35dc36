import { randomUUID } from 'node:crypto';
import type { Handle } from '@sveltejs/kit';
import { REQUEST_ID_HEADER } from '../../../../server/shared.js';
import { withHeaders } from './headers';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Give each request a UUID v4, echoed as X-Request-ID and carried by its log lines.
 * server/index.js generates it before the request reaches Kit (so static assets get one
 * too) and overwrites whatever the client sent; under `vite dev` there is no such entry
 * point, so one is made here. A client's own X-Request-ID is never trusted into the log.
 */
export const requestId: Handle = async ({ event, resolve }) => {
	const fromEntry = event.request.headers.get('x-raven-request-id');
	event.locals.requestId = fromEntry && UUID_V4.test(fromEntry) ? fromEntry : randomUUID();
	event.locals.startedAt = performance.now();
	const response = await resolve(event);
	return withHeaders(response, { [REQUEST_ID_HEADER]: event.locals.requestId });
};
