import type { RequestHandler } from './$types';
import { clientAddress } from '$lib/server/http/client-address';
import { refusalResponse } from '$lib/server/http/refusals';
import { createdDropBody } from '$lib/server/http/responses';
import { uploadRequest } from '$lib/server/http/upload-body';
import { services } from '$lib/server/services';

/** `POST /upload` and `POST /upload/` both work: curl does not follow a 308. */
export const trailingSlash = 'ignore';

/**
 * multipart `file` (+ `expiry`, `uses`) -> 201 with the passphrase and the seed's fields. A
 * sender that drew its own passphrase (the send page) sends only its access key, in
 * `X-Access-Key`; the answer then has no `key` and no links, which the server cannot know.
 */
export const POST: RequestHandler = async (event) => {
	const created = await services().drops.create({
		...uploadRequest(event),
		accessKey: event.request.headers.get('x-access-key')?.trim(),
		address: clientAddress(event)
	});
	if (!created.ok) return refusalResponse(created);
	return Response.json(createdDropBody(event.url, created), {
		status: 201,
		headers: created.headers
	});
};
