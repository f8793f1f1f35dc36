import type { Actions, PageServerLoad } from './$types';
import type { DropInfo } from '$lib/api-client';
import { pageFailure } from '$lib/errors';
import { readDropName } from '$lib/server/http/drop-name';
import { readRefusal, refusedAction } from '$lib/server/http/refusals';
import { clientAddress } from '$lib/server/http/client-address';
import { services } from '$lib/server/services';
import { MAX_PASSPHRASE_LENGTH } from '$lib/passphrase';
import type { CheckAnswer } from '$lib/retriever.svelte';

/**
 * `/r/` renders the page too, not a bodiless 308 (plain curl, a hand-typed link). Safe for a
 * page: Kit writes asset and `resolve()` paths relative to the URL actually requested, and the
 * form's `?/check` from `/r/` posts to `/r/?/check`, the same route and action
 * (tests/integration/trailing-slash.test.ts loads and posts both).
 */
export const trailingSlash = 'ignore';

/**
 * The retrieval page. "Check" is the `check` action, with or without JavaScript (it consumes
 * nothing): the plain form posts the passphrase, the enhanced one its access key. "Download"
 * posts the same passphrase or key to `/download`, which streams the attachment (an action
 * cannot). The rate-limit handle refuses
 * a blocked address here as on every lookup route (LOOKUP_PAGES).
 *
 * The passphrase the visitor typed is echoed into the page so the Download button can send
 * it: a no-store answer to the person who just posted it, never a URL or a log line.
 */

/** A no-JavaScript form refused elsewhere (a download, a block) comes back with its code. */
export const load: PageServerLoad = ({ url }) => {
	const refusal = readRefusal(url);
	return {
		refused: refusal && pageFailure({ code: refusal.code, retryAfterSeconds: refusal.retryAfter })
	};
};

export const actions: Actions = {
	check: async (event) => {
		// Bounded read (4 KiB), the same parser the lookup endpoints use: the passphrase from the
		// no-JavaScript form, the access key (`access_key`) from the enhanced one.
		const input = await readDropName(event.request);
		if (!input.ok) {
			return refusedAction(input, {
				passphrase: '',
				info: null,
				failure: pageFailure(input)
			} satisfies CheckAnswer);
		}
		const name =
			typeof input.name === 'string' ? input.name.slice(0, MAX_PASSPHRASE_LENGTH * 4) : input.name;
		// Echoed only when the visitor posted it; the page keeps its own when it sent a key.
		const passphrase = typeof name === 'string' ? name : '';
		const result = await services().drops.status(name, clientAddress(event));
		if (!result.ok) {
			return refusedAction(result, {
				passphrase,
				info: null,
				failure: pageFailure(result)
			} satisfies CheckAnswer);
		}
		const info: DropInfo = {
			status: result.status,
			remainingUses: result.remainingUses,
			expiresAt: result.expiresAt?.toISOString() ?? null,
			filename: result.metadata?.filename ?? null,
			size: result.metadata?.size ?? null,
			mimeType: result.metadata?.mime_type ?? null,
			sha256: result.metadata?.sha256 ?? null,
			kind: result.metadata ? (result.metadata.kind ?? 'file') : null,
			contents: result.metadata?.contents ?? null
		};
		// Looked up by passphrase, the answer carries its normalised spelling (null for a lookup
		// by access key). A form that says what it showed was sent back by /download to warn of
		// the last use (lookup-routes.ts).
		return {
			passphrase: result.passphrase ?? passphrase,
			info,
			failure: null,
			rechecked: input.usesShown !== undefined
		} satisfies CheckAnswer;
	}
};
