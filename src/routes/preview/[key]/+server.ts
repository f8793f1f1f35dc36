import type { RequestHandler } from './$types';
import { refuseHead, respondWithPreview } from '$lib/server/http/lookup-routes';

export const trailingSlash = 'ignore';

/** The seed's one-time metadata view: only the first call answers 200. */
export const GET: RequestHandler = (event) => respondWithPreview(event);

/** HEAD must not consume a use or the preview. */
export const HEAD: RequestHandler = () => refuseHead();
