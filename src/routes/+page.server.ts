import type { Actions, PageServerLoad } from './$types';
import { pageFailure } from '$lib/errors';
import type { SendAnswer } from '$lib/sender.svelte';
import { getConfig } from '$lib/server/config';
import { clientAddress } from '$lib/server/http/client-address';
import { readRefusal, refusedAction } from '$lib/server/http/refusals';
import { uploadRequest } from '$lib/server/http/upload-body';
import { services } from '$lib/server/services';

/** What the page must know before a byte is sent: the size limit and any type restriction. */
export const load: PageServerLoad = ({ url }) => {
	const { maxFileSize, allowedMimeTypes, passphraseWords } = getConfig();
	// A no-JavaScript upload refused before the action ran (the upload limit) comes back here.
	const refusal = readRefusal(url);
	return {
		maxFileSize,
		allowedMimeTypes: [...allowedMimeTypes],
		// How many words the page draws for a passphrase when it draws its own.
		passphraseWords,
		refused: refusal && pageFailure({ code: refusal.code, retryAfterSeconds: refusal.retryAfter })
	};
};

export const actions: Actions = {
	/**
	 * Sending, from the page's own multipart form: posted by the browser without JavaScript
	 * (the server draws the passphrase), and by the page's XHR with it (for the progress bar),
	 * which asks for the action result and names the access key of the passphrase the page
	 * drew in `X-Access-Key` (409 DROP_EXISTS when a live drop has it: the page draws again).
	 * Streamed through the same use case as `POST /upload/` (busboy over the body; never
	 * `request.formData()`). The rate-limit handle counts it as an upload (route-kinds.ts
	 * UPLOAD_ROUTES).
	 */
	default: async (event) => {
		const created = await services().drops.create({
			...uploadRequest(event),
			accessKey: event.request.headers.get('x-access-key')?.trim(),
			address: clientAddress(event)
		});
		if (!created.ok) {
			return refusedAction(created, {
				sent: null,
				failure: pageFailure(created)
			} satisfies SendAnswer);
		}
		const { passphrase, metadata, expiresAt } = created;
		return {
			sent: {
				// '' when the page drew the passphrase: it fills in its own.
				passphrase: passphrase ?? '',
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
