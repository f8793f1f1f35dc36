import type { Handle } from '@sveltejs/kit';
import { clientAddress, limitHealthCheck } from '../limits';
import { jsonError } from './errors';
import { withHeaders } from './request-id';

/** HEALTH_RATE_LIMIT per client address on /health/ (429 with Retry-After past it). */
export const rateLimit: Handle = async ({ event, resolve }) => {
	if (event.route.id !== '/health') return resolve(event);
	const decision = await limitHealthCheck(clientAddress(event));
	if (!decision.allowed) {
		return jsonError(
			429,
			'RATE_LIMITED',
			`Too many health checks from this address. Try again in ${decision.retryAfterSeconds} s.`,
			{ headers: decision.headers }
		);
	}
	return withHeaders(await resolve(event), decision.headers);
};
