import type { RequestHandler } from './$types';
import { wordlist } from '$lib/server/diceware';
import { errorResponse } from '$lib/server/http/refusals';

/** `/words.json/` answers too (the README promises every path with or without its slash). */
export const trailingSlash = 'ignore';

/**
 * The words a passphrase can contain, so the retrieval page can check what is typed and
 * suggest corrections without a round trip (and without sending half-typed passphrases
 * anywhere). The list is public: diceware's strength is the draw, not secrecy of the list.
 */
export const GET: RequestHandler = () => {
	const words = wordlist();
	if (!words) return errorResponse('WORDLIST_UNAVAILABLE');
	return Response.json(words.drawable);
};
