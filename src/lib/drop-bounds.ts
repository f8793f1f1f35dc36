/**
 * The upload form's `expiry` (minutes) and `uses` fields: bounds and defaults. One place for
 * the server's checks, the OpenAPI schemas and the send page's choices; a module of its own
 * so the pages get these numbers without the schema library.
 */
export const EXPIRY_MINUTES = { min: 1, max: 60, default: 10 } as const;
export const USES = { min: 1, max: 5, default: 1 } as const;

/**
 * What a drop holds, sealed in its metadata (the upload form's `kind` field): a single
 * file, text typed or pasted on the send page (shown as text to the recipient), or a zip of
 * several files (built by the send page) whose list of names travels in `contents`.
 */
export const DROP_KINDS = ['file', 'text', 'archive'] as const;
export type DropKind = (typeof DROP_KINDS)[number];

/**
 * The `contents` upload field: the names and sizes of the files in an archive, as JSON. Bounded
 * so the sealed metadata stays small: a folder with more files than this is zipped by hand.
 */
export const CONTENTS = {
	/** Entries in the list. */
	maxEntries: 1000,
	/** The field's value, in UTF-8 bytes of JSON. */
	maxBytes: 64 * 1024,
	/** One entry's name (a relative path such as `photos/beach.jpg`), in UTF-8 bytes. */
	maxNameBytes: 1024
} as const;

/** One file of an archive: its relative path inside the zip and its size in bytes. */
export type ContentsEntry = { name: string; size: number };
