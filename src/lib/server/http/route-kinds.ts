/**
 * Which routes are which, by Kit route id, for the handles that treat them differently.
 */

/** Every route that looks a passphrase up; a blocked address is refused on all of them. */
export const LOOKUP_ROUTES: ReadonlySet<string> = new Set([
	'/download/[key]',
	'/download',
	'/preview/[key]',
	'/status/[key]',
	'/status',
	'/destroy'
]);

/** API endpoints (+server.ts): scripts and curl may call them without an Origin header. */
export const API_ROUTES: ReadonlySet<string> = new Set(['/health', '/upload', ...LOOKUP_ROUTES]);

/**
 * Page routes whose form action looks a passphrase up (the retrieval page's "Check"). They
 * are not API routes (they require a same-origin browser), but a blocked address is refused
 * on their POSTs exactly as on LOOKUP_ROUTES.
 */
export const LOOKUP_PAGES: ReadonlySet<string> = new Set(['/r']);

/** Routes whose POST creates a drop: the API and the send page's form action (no JS). */
export const UPLOAD_ROUTES: ReadonlySet<string> = new Set(['/upload', '/']);
