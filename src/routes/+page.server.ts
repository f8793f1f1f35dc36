import { fail } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import { pageFailure } from '$lib/api-client';
import type { SendAnswer } from '$lib/sender.svelte';
import { getConfig } from '$lib/server/config';
import { readRefusal } from '$lib/server/http/refusals';
import { uploadRequest } from '$lib/server/http/upload-body';
import { statusOf } from '$lib/server/refusal';
import { services } from '$lib/server/services';

/** What the page must know before a byte is sent: the size limit and any type restriction. */
export const load: PageServerLoad = ({ url }) => {
	const { maxFileSize, allowedMimeTypes } = getConfig();
	// A no-JavaScript upload refused before the action ran (the upload limit) comes back here.
	const refusal = readRefusal(url);
	return {
		maxFileSize,
		allowedMimeTypes: [...allowedMimeTypes],
		refused: refusal && pageFailure({ code: refusal.code, retryAfterSeconds: refusal.retryAfter })
	};
};

export const actions: Actions = {
	/**
	 * Sending, from the page's own multipart form: posted by the browser without JavaScript,
	 * and by the page's XHR with it (for the progress bar), which asks for the action result.
	 * Streamed through the same use case as `POST /upload/` (busboy over the body; never
	 * `request.formData()`). The rate-limit handle counts it as an upload (route-kinds.ts
	 * UPLOAD_ROUTES).
	 */
	default: async (event) => {
		const created = await services().drops.create(uploadRequest(event));
		if (!created.ok) {
			return fail(statusOf(created), {
				sent: null,
				failure: pageFailure(created)
			} satisfies SendAnswer);
		}
		const { passphrase, metadata, expiresAt } = created;
		return {
			sent: {
				passphrase,
				filename: metadata.filename,
				size: metadata.size,
				mimeType: metadata.mime_type,
				sha256: metadata.sha256,
				uses: metadata.uses,
				expiresAt: expiresAt.toISOString()
			},
			failure: null
		} satisfies SendAnswer;
	}
};
