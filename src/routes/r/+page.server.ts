import { fail } from '@sveltejs/kit';
import type { Actions, PageServerLoad } from './$types';
import * as drops from '$lib/server/drops';
import { readRefusal } from '$lib/server/http/browser-refusal';
import { readPassphrase } from '$lib/server/http/passphrase-body';
import { clientAddress } from '$lib/server/limits';
import { MAX_PASSPHRASE_LENGTH } from '$lib/passphrase';

/**
 * Retrieval without JavaScript. "Check" is this action (it consumes nothing); "Download"
 * posts the same form to `/download`, which streams the attachment (an action cannot). The
 * rate-limit handle refuses a blocked address here as on every lookup route (LOOKUP_PAGES).
 *
 * The passphrase the visitor typed is echoed into the page so the Download button can send
 * it: a no-store answer to the person who just posted it, never a URL or a log line.
 */
/** A no-JavaScript form refused elsewhere (a download, a block) comes back with its code. */
export const load: PageServerLoad = ({ url }) => ({ refusal: readRefusal(url) });

export const actions: Actions = {
	check: async (event) => {
		// Bounded read (4 KiB), the same parser the lookup endpoints use.
		const input = await readPassphrase(event.request);
		if (!input.ok) {
			return fail(input.status, {
				passphrase: '',
				code: 'BAD_REQUEST',
				message: input.detail,
				retryAfter: undefined as number | undefined
			});
		}
		const passphrase = input.passphrase.slice(0, MAX_PASSPHRASE_LENGTH * 4);
		const result = await drops.status(passphrase, clientAddress(event));
		if (!result.ok) {
			const unknownWords = (result.extra?.unknown_words ?? []) as {
				position: number;
				word: string;
				suggestions: string[];
			}[];
			const retryAfter = Number(result.headers?.['Retry-After'] ?? 0) || undefined;
			return fail(result.status, {
				passphrase,
				code: result.code,
				message: result.detail,
				retryAfter,
				unknownWords
			});
		}
		return {
			passphrase: result.passphrase,
			status: {
				status: result.status,
				remainingUses: result.remainingUses,
				expiresAt: result.expiresAt?.toISOString() ?? null,
				filename: result.metadata?.filename ?? null,
				size: result.metadata?.size ?? null,
				mimeType: result.metadata?.mime_type ?? null,
				sha256: result.metadata?.sha256 ?? null
			}
		};
	}
};
