import type { RequestHandler } from './$types';
import { documentFor } from '$lib/server/openapi/document';
import { publicOrigin } from '$lib/server/http/responses';

/** `/openapi.json/` answers too: tools and plain curl do not follow a 308 with an empty body. */
export const trailingSlash = 'ignore';

/**
 * The OpenAPI 3.1 description of the API. `servers` is filled in per request (ORIGIN when
 * set, else the origin the request came to), so "try it" tools talk to this very server.
 */
export const GET: RequestHandler = ({ url }) => Response.json(documentFor(publicOrigin(url)));
