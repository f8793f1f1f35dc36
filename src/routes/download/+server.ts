import type { RequestHandler } from './$types';
import { respondWithDownload } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** The same download with the passphrase in the body, so it never sits in a URL. */
export const POST: RequestHandler = (event) => respondWithDownload(event, 'body');
