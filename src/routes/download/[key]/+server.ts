import type { RequestHandler } from './$types';
import { refuseHead, respondWithDownload } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** The seed's download link: consumes one use and streams the decrypted file. */
export const GET: RequestHandler = (event) => respondWithDownload(event, 'path');

/** HEAD must not consume a use or the preview. */
export const HEAD: RequestHandler = () => refuseHead();
