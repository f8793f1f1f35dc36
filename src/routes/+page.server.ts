import { fail } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { getConfig } from '$lib/server/config';
import { readRefusal } from '$lib/server/http/refusals';
import { detailOf, statusOf } from '$lib/server/refusal';
import { services } from '$lib/server/services';

/** What the page must know before a byte is sent: the size limit and any type restriction. */
export const load: PageServerLoad = ({ url }) => {
	const { maxFileSize, allowedMimeTypes } = getConfig();
	// A no-JavaScript upload refused before the action ran (the upload limit) comes back here.
	return { maxFileSize, allowedMimeTypes: [...allowedMimeTypes], refusal: readRefusal(url) };
};

export const actions: Actions = {
	/**
	 * Sending without JavaScript: the page's own multipart form, streamed through the same
	 * use case as `POST /upload/` (busboy over the body; never `request.formData()`). The
	 * rate-limit handle counts it as an upload (route-kinds.ts UPLOAD_ROUTES).
	 */
	default: async ({ request }) => {
		const length = request.headers.get('content-length');
		const created = await services().drops.create({
			body: request.body,
			contentType: request.headers.get('content-type'),
			contentLength: length === null ? undefined : Number(length)
		});
		if (!created.ok) {
			return fail(statusOf(created), {
				code: created.code,
				message: detailOf(created),
				retryAfter: created.retryAfterSeconds
			});
		}
		const { passphrase, metadata, expiresAt } = created;
		return {
			created: {
				passphrase,
				filename: metadata.filename,
				size: metadata.size,
				mimeType: metadata.mime_type,
				sha256: metadata.sha256,
				uses: metadata.uses,
				expiresAt: expiresAt.toISOString()
			}
		};
	}
};
