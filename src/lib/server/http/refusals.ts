/**
 * A refusal as an HTTP answer, and where each refusal is counted for the metrics (once: every
 * refusal leaves through one of the functions below). The JSON error shape `{ "error_code", "detail", ... }` for
 * API clients, or, for a browser without JavaScript whose form was refused outside a page
 * action, a 303 back to its page with the code in the query string (the page shows the
 * catalogue's sentence for it; nothing the client sent is echoed, and the passphrase never
 * goes into a URL).
 */
import { fail, type ActionFailure } from '@sveltejs/kit';
import { stringify } from 'devalue';
import type { CheckAnswer } from '../../retriever.svelte';
import type { SendAnswer } from '../../sender.svelte';
import {
	isErrorCode,
	pageFailure,
	pageMessage,
	type ErrorBody,
	type ErrorCode
} from '../../errors';
import { detailOf, refuse, statusOf, type Refusal } from '../refusal';
import { currentMetrics } from '../services';

/** The JSON answer for a refusal, with Retry-After when it says how long to wait. */
export function refusalResponse(refusal: Refusal): Response {
	currentMetrics().refused(refusal);
	const body: ErrorBody = { error_code: refusal.code, detail: detailOf(refusal) };
	if (refusal.unknownWords) body.unknown_words = refusal.unknownWords;
	if (refusal.triesLeft !== undefined) body.tries_left = refusal.triesLeft;
	const headers = new Headers(refusal.headers);
	if (refusal.retryAfterSeconds) headers.set('Retry-After', String(refusal.retryAfterSeconds));
	return Response.json(body, { status: statusOf(refusal), headers });
}

/** The JSON answer for a code of the catalogue, with its own sentence unless one is given. */
export function errorResponse(
	code: ErrorCode,
	detail?: string,
	headers?: Record<string, string>
): Response {
	return refusalResponse(refuse(code, { detail, headers }));
}

/**
 * A page's form action refused: `fail` with the page's answer, whose `failure` says why.
 * @param answer the page's answer shape (SendAnswer, CheckAnswer) with the refusal's failure
 */
export function refusedAction<T extends Record<string, unknown>>(
	refusal: Refusal,
	answer: T
): ActionFailure<T> {
	currentMetrics().refused(refusal);
	return fail(statusOf(refusal), answer);
}

/** A form submitted by a browser (it asks for HTML and posts a form, not JSON). */
export function isBrowserFormPost(request: Request): boolean {
	const accept = request.headers.get('accept') ?? '';
	const type = request.headers.get('content-type') ?? '';
	return (
		request.method === 'POST' &&
		accept.includes('text/html') &&
		(type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data'))
	);
}

export type PagePath = '/' | '/r';

/**
 * The answer for a refusal on a route a page's form may post to: the 303 back to `page` for
 * a browser form, the JSON answer for everyone else.
 */
export function refusalFor(request: Request, refusal: Refusal, page?: PagePath): Response {
	if (page && request.headers.get('x-sveltekit-action') === 'true') {
		return actionFailure(refusal, page);
	}
	if (!page || !isBrowserFormPost(request)) return refusalResponse(refusal);
	currentMetrics().refused(refusal);
	const query = new URLSearchParams({ refused: refusal.code });
	if (refusal.retryAfterSeconds) query.set('retry', String(Math.ceil(refusal.retryAfterSeconds)));
	return new Response(null, { status: 303, headers: { Location: `${page}?${query}` } });
}

/**
 * A page's enhanced form post (`use:enhance`, the send page's XHR) refused before its action
 * ran: answered as the action would have answered, an action result of type `failure` with
 * the page's answer shape. Kit's client reads only the body of such a post, never its headers,
 * so the JSON error's Retry-After would be lost and a blocked address would not see how long
 * the block lasts. Kit sends action results with HTTP 200 and the status inside.
 */
function actionFailure(refusal: Refusal, page: PagePath): Response {
	currentMetrics().refused(refusal);
	const failure = pageFailure({
		code: refusal.code,
		retryAfterSeconds: refusal.retryAfterSeconds
	});
	const data =
		page === '/'
			? ({ sent: null, failure } satisfies SendAnswer)
			: ({ passphrase: '', info: null, failure } satisfies CheckAnswer);
	const headers = new Headers(refusal.headers);
	if (refusal.retryAfterSeconds) headers.set('Retry-After', String(refusal.retryAfterSeconds));
	return Response.json(
		{ type: 'failure', status: statusOf(refusal), data: stringify(data) },
		{ status: 200, headers }
	);
}

/** What a page sent back by `refusalFor` shows. */
export type PageRefusal = { code: ErrorCode; message: string; retryAfter: number | undefined };

/** The refusal a page was sent back with, if its code is one of the catalogue's. */
export function readRefusal(url: URL): PageRefusal | null {
	const code = url.searchParams.get('refused') ?? '';
	if (!isErrorCode(code)) return null;
	const retry = Number(url.searchParams.get('retry'));
	return {
		code,
		message: pageMessage(code),
		retryAfter: Number.isSafeInteger(retry) && retry > 0 ? retry : undefined
	};
}
