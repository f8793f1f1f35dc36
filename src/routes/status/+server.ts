import type { RequestHandler } from './$types';
import { respondWithStatus } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** Status with the passphrase in the body (for pages and careful clients). */
export const POST: RequestHandler = (event) => respondWithStatus(event, 'body');
