/**
 * The lookup endpoints share their shape: a passphrase from the path (GET, as the seed's
 * clients do) or the drop's name from the body or X-Access-Key (POST, as our pages do), one
 * use case, one response.
 */
import type { RequestEvent } from '@sveltejs/kit';
import { clientAddress } from './client-address';
import { services } from '../services';
import { readDropName } from './drop-name';
import type { DropName } from '../drops';
import { errorResponse, isBrowserFormPost, refusalFor, refusalResponse } from './refusals';
import { downloadHeaders, dropPreviewBody, dropStatusBody } from './responses';

type Source = 'path' | 'body';

async function nameOf(event: RequestEvent, source: Source) {
	if (source === 'path') return { ok: true as const, name: event.params.key ?? '' };
	return readDropName(event.request);
}

export async function respondWithDownload(event: RequestEvent, source: Source): Promise<Response> {
	const input = await nameOf(event, source);
	if (!input.ok) return refusalResponse(input);
	const result = await services().drops.downloadAsShown(
		input.name,
		clientAddress(event),
		usesShownOf(event, input)
	);
	// The retrieval page's no-JavaScript form posts here: send that browser back to it.
	if (!result.ok) return refusalFor(event.request, result, source === 'body' ? '/r' : undefined);
	if ('lastUseWithheld' in result) {
		// 307 keeps the method and the body: the browser posts the same form (the passphrase
		// stays in the body, never in a URL) to the page's Check, which shows the count now,
		// with the last-use warning. Nothing was taken.
		return new Response(null, { status: 307, headers: { Location: '/r?/check' } });
	}
	return new Response(result.body, { status: 200, headers: downloadHeaders(result) });
}

/**
 * The count of downloads left that the retrieval page's form without JavaScript showed
 * (`uses_shown`), for the download to respect: that page cannot change after a download, so
 * after one of two it still says 2, and the next press would destroy the file without the
 * warning the page gives before a last download. The store's claim then withholds a last use
 * atomically (drops.download). Only browser form posts are asked; curl and the pages with
 * JavaScript never are.
 */
function usesShownOf(
	event: RequestEvent,
	input: { name: DropName; usesShown?: number }
): number | undefined {
	if (input.usesShown === undefined || !isBrowserFormPost(event.request)) return undefined;
	return input.usesShown;
}

export async function respondWithStatus(event: RequestEvent, source: Source): Promise<Response> {
	const input = await nameOf(event, source);
	if (!input.ok) return refusalResponse(input);
	const result = await services().drops.status(input.name, clientAddress(event));
	if (!result.ok) return refusalResponse(result);
	return Response.json(dropStatusBody(result));
}

/** Burn the drop now; answers its status (burned), as a status request afterwards would. */
export async function respondWithDestroy(event: RequestEvent): Promise<Response> {
	const input = await readDropName(event.request);
	if (!input.ok) return refusalResponse(input);
	const result = await services().drops.destroy(input.name, clientAddress(event));
	if (!result.ok) return refusalResponse(result);
	return Response.json(dropStatusBody(result));
}

/** The seed's one-time preview, by the passphrase in the path. */
export async function respondWithPreview(event: RequestEvent): Promise<Response> {
	const result = await services().drops.preview(event.params.key ?? '', clientAddress(event));
	if (!result.ok) return refusalResponse(result);
	return Response.json(dropPreviewBody(event.url, result));
}

/**
 * HEAD on a route that consumes something (a download, the one-time preview) must not
 * consume it: Kit would otherwise run GET for HEAD, and `curl -I` or a link checker would
 * burn the drop. Answer 405 and point at GET.
 */
export function refuseHead(): Response {
	return errorResponse('METHOD_NOT_ALLOWED', 'HEAD would consume this drop; use GET.', {
		Allow: 'GET'
	});
}
