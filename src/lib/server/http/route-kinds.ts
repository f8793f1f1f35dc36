/**
 * Which routes are which, by Kit route id, for the handles that treat them differently.
 */

/** Every route that looks a passphrase up; a blocked address is refused on all of them. */
export const LOOKUP_ROUTES: ReadonlySet<string> = new Set([
	'/download/[key]',
	'/download',
	'/preview/[key]',
	'/status/[key]',
	'/status'
]);

/** API endpoints (+server.ts): scripts and curl may call them without an Origin header. */
export const API_ROUTES: ReadonlySet<string> = new Set(['/health', '/upload', ...LOOKUP_ROUTES]);
