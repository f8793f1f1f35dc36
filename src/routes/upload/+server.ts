import type { RequestHandler } from './$types';
import { refusalResponse } from '$lib/server/http/refusals';
import { dropUrls } from '$lib/server/http/responses';
import { services } from '$lib/server/services';

/** `POST /upload` and `POST /upload/` both work: curl does not follow a 308. */
export const trailingSlash = 'ignore';

/** multipart `file` (+ `expiry`, `uses`) -> 201 with the passphrase and the seed's fields. */
export const POST: RequestHandler = async ({ request, url }) => {
	const length = request.headers.get('content-length');
	const created = await services().drops.create({
		body: request.body,
		contentType: request.headers.get('content-type'),
		contentLength: length === null ? undefined : Number(length)
	});
	if (!created.ok) return refusalResponse(created);
	const { passphrase, metadata, expiresAt } = created;
	return Response.json(
		{
			key: passphrase,
			...dropUrls(url, passphrase),
			expiry: metadata.expiry_minutes,
			uses: metadata.uses,
			filename: metadata.filename,
			size: metadata.size,
			mime_type: metadata.mime_type,
			created_at: metadata.created_at,
			expires_at: expiresAt.toISOString(),
			sha256: metadata.sha256
		},
		{ status: 201 }
	);
};
