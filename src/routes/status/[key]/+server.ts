import type { RequestHandler } from './$types';
import { respondWithStatus } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** What is waiting under a passphrase; consumes nothing. */
export const GET: RequestHandler = (event) => respondWithStatus(event, 'path');
