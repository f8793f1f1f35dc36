import type { RequestHandler } from './$types';
import { respondWithDestroy } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** "Destroy now": burn the drop the body (or X-Access-Key) names. */
export const POST: RequestHandler = (event) => respondWithDestroy(event);
