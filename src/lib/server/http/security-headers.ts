import type { Handle } from '@sveltejs/kit';
import { SECURITY_HEADERS } from '../../../../server/shared.js';
import { withHeaders } from './headers';

/**
 * The seed's security headers on every response Kit produces, errors included. Kit adds the
 * Content-Security-Policy to pages itself (kit.csp); static assets get these headers from
 * server/index.js, since adapter-node serves them before any hook runs.
 */
export const securityHeaders: Handle = async ({ event, resolve }) => {
	const response = await resolve(event);
	return withHeaders(response, SECURITY_HEADERS);
};
