/**
 * The pages' view of the server's answers: what they show about a drop, and failures turned
 * into the plain sentences the pages show. Universal (browser) code; the API itself is
 * src/routes/*.
 */
import { ERRORS, isErrorCode, type Failure, type UnknownWord } from './errors';
import { formatWait } from './format';
import type { ContentsEntry, DropKind } from './drop-bounds';

/** What a page shows about a drop that was just sent (the send page's action answers it). */
export type SentDrop = {
	passphrase: string;
	filename: string;
	size: number;
	mimeType: string;
	sha256: string;
	uses: number;
	expiresAt: string;
	/**
	 * The access key of the passphrase, when the page drew it (never from the server): the
	 * result card follows and destroys the drop with it (drop-watch.svelte.ts).
	 */
	accessKey?: string;
};

/** What a page shows about a drop someone checked. */
export type DropInfo = {
	status: 'active' | 'burned' | 'expired';
	remainingUses: number;
	expiresAt: string | null;
	filename: string | null;
	size: number | null;
	mimeType: string | null;
	sha256?: string | null;
	/** What the drop holds (`text` is shown as text after its download); null unless active. */
	kind?: DropKind | null;
	/** The files of an archive, listed before downloading. */
	contents?: ContentsEntry[] | null;
};

export type { Failure, UnknownWord };

/** The sentence for a failure: the server's own, with waits spelled out for people. */
export function explain(failure: {
	status: number;
	code: string;
	message: string;
	retryAfter?: number;
}): string {
	const wait = failure.retryAfter ? formatWait(failure.retryAfter) : undefined;
	switch (failure.code) {
		case 'TOO_MANY_FAILED_LOOKUPS':
			return `Too many unknown passphrases were tried from your network address, so lookups from it are blocked${wait ? ` for ${wait} more` : ' for a while'}. Nothing about any file is revealed by this.`;
		case 'RATE_LIMITED':
			// The sentence's own "wait a little" or "try again in 1800 s" gives way to the wait in
			// words, so it is said once ("Wait a little and try again. Try again in 60 minutes.").
			return wait
				? `${failure.message.replace(/\s*(Wait a little and try again\.|Try again in .*)$/, '')} Try again in ${wait}.`
				: failure.message;
		default:
			return failure.message;
	}
}

/** A failure from a JSON error response `{ error_code, detail, ... }` (or anything else). */
export function failureFrom(
	status: number,
	body: unknown,
	retryAfterHeader: string | null
): Failure {
	const record = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
	const retryAfter = Number(retryAfterHeader ?? 0) || undefined;
	const code =
		typeof record.error_code === 'string' && isErrorCode(record.error_code)
			? record.error_code
			: (`HTTP_${status}` as const);
	const detail =
		typeof record.detail === 'string'
			? record.detail
			: status === 413
				? ERRORS.FILE_TOO_LARGE.detail
				: status >= 500
					? 'The server could not handle this right now. Try again shortly.'
					: `The server answered ${status}.`;
	const failure: Failure = { status, code, message: detail, retryAfter };
	if (Array.isArray(record.unknown_words)) {
		failure.unknownWords = record.unknown_words as UnknownWord[];
	}
	return failure;
}

/**
 * Why an enhanced form post got no answer from its action: Kit's error result (the action
 * threw: `status` is known; or the request never completed: it is not), or the JSON error
 * (`{ error_code, detail }`) that a hook answered with before the action ran (the rate-limit
 * and origin handles do that), which reaches the page as it came.
 */
export function failureOutsideAction(
	answer: unknown,
	status: number | undefined,
	retryAfterHeader: string | null = null
): Failure {
	const record = (typeof answer === 'object' && answer !== null ? answer : {}) as Record<
		string,
		unknown
	>;
	if (record.type === 'error') {
		return status === undefined
			? NETWORK_FAILURE
			: failureFrom(status, record.error, retryAfterHeader);
	}
	const code = typeof record.error_code === 'string' ? record.error_code : '';
	const known = status ?? (isErrorCode(code) ? ERRORS[code].status : 0);
	return failureFrom(known, answer, retryAfterHeader);
}

/** Read a failed fetch Response as a Failure. */
export async function readFailure(response: Response): Promise<Failure> {
	let body: unknown;
	try {
		body = await response.json();
	} catch {
		body = undefined;
	}
	return failureFrom(response.status, body, response.headers.get('retry-after'));
}

export const NETWORK_FAILURE: Failure = {
	status: 0,
	code: 'NETWORK',
	message: 'The connection to the server failed. Check your network and try again.'
};
