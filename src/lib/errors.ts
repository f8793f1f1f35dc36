/**
 * Every error Raven Zero answers with, in one table: its HTTP status and the sentence it
 * carries when nothing more specific is known. The server's responses, the OpenAPI document
 * and the pages' messages all read this table, so a code is added here once.
 *
 * Universal code (the pages import it): nothing secret, nothing from the server.
 *
 * `detail` is the sentence for people; a refusal may carry a more specific one (the size
 * limit, the unknown words). `page`, where present, is what a page without JavaScript shows
 * for the code when the API's sentence reads wrong there.
 */
import { formatWait } from './format';

export const ERRORS = {
	// 400: the request is wrong; the client can fix it.
	BAD_REQUEST: {
		status: 400,
		detail: 'Send the passphrase in a field named "passphrase".',
		page: 'Enter the passphrase you were given.'
	},
	INVALID_PASSPHRASE: {
		status: 400,
		detail: 'A word of that passphrase is not in the word list.',
		page: 'A word of that passphrase is not in the word list. Check the words.'
	},
	INVALID_ACCESS_KEY: {
		status: 400,
		detail: 'An access key is 43 characters of base64url: the 32 bytes the pages derive.'
	},
	INVALID_CLIENT_ADDRESS: {
		status: 400,
		detail:
			'The proxy in front of this service sent no usable client address. The operator should check ADDRESS_HEADER.'
	},
	NOT_MULTIPART: {
		status: 400,
		detail: 'Send the file as multipart/form-data in a field named "file" (curl -F file=@name).'
	},
	MALFORMED_MULTIPART: {
		status: 400,
		detail: 'The multipart body is malformed or incomplete.'
	},
	MISSING_FILE: { status: 400, detail: 'No file was sent: use a field named "file".' },
	MULTIPLE_FILES: { status: 400, detail: 'Send one file per upload.' },
	UNEXPECTED_FILE_FIELD: { status: 400, detail: 'Send the file in a field named "file".' },
	EMPTY_FIELD_NAME: { status: 400, detail: 'A form field has an empty name.' },
	FIELD_TOO_LONG: { status: 400, detail: 'A form field is too long.' },
	TOO_MANY_FIELDS: { status: 400, detail: 'The form has too many fields.' },
	INVALID_EXPIRY: {
		status: 400,
		detail: 'expiry must be a whole number of minutes from 1 to 60.'
	},
	INVALID_USES: { status: 400, detail: 'uses must be a whole number from 1 to 5.' },
	INVALID_KIND: { status: 400, detail: 'kind must be one of file, text or archive.' },
	INVALID_CONTENTS: {
		status: 400,
		detail:
			'contents must be a JSON array of at most 1000 {"name": "path/in/the/zip", "size": bytes} entries, at most 64 KiB, and goes with kind archive.'
	},
	UPLOAD_INTERRUPTED: { status: 400, detail: 'The upload was interrupted.' },

	// 403-415: refused as asked.
	CROSS_ORIGIN_FORBIDDEN: { status: 403, detail: 'Requests from other sites are not accepted.' },
	NOT_FOUND: { status: 404, detail: 'There is nothing at this address.' },
	MISDIRECTED_REQUEST: {
		status: 421,
		detail: 'This server does not answer for that host name.'
	},
	UNKNOWN_PASSPHRASE: {
		status: 404,
		detail:
			'No drop has this passphrase. Check it for typos; repeated failures block this address for a while.',
		// The page's title says "No drop has this passphrase" already: say the rest once.
		page: 'Check each word for typos: repeated unknown passphrases block this network address for a while.'
	},
	METHOD_NOT_ALLOWED: { status: 405, detail: 'This method is not allowed here.' },
	DROP_EXISTS: {
		status: 409,
		detail: 'A drop already exists under this access key. Draw another passphrase and send again.'
	},
	ALREADY_DOWNLOADED: {
		status: 410,
		detail:
			'This drop has been downloaded as many times as allowed and is destroyed. If that was not you, the passphrase has leaked.'
	},
	EXPIRED: { status: 410, detail: 'This drop expired and is destroyed.' },
	PREVIEW_ALREADY_SEEN: {
		status: 410,
		detail: 'The preview of this drop has already been seen. It can still be downloaded.'
	},
	FILE_MISSING: { status: 410, detail: 'The file of this drop is no longer on this server.' },
	FILE_TOO_LARGE: { status: 413, detail: 'The file is larger than this server accepts.' },
	BODY_TOO_LARGE: { status: 413, detail: 'The request body is too large.' },
	UNSUPPORTED_FILE_TYPE: { status: 415, detail: 'Files of this type are not accepted here.' },
	UNSUPPORTED_MEDIA_TYPE: {
		status: 415,
		detail: 'Send the passphrase as a form field or as JSON.'
	},

	// 429: limited; Retry-After says how long.
	RATE_LIMITED: {
		status: 429,
		detail: 'Too many requests from this address. Wait a little and try again.'
	},
	UPLOAD_BUDGET_EXCEEDED: {
		status: 429,
		detail:
			'This address has sent as many bytes as it may for now. A smaller file may still fit; otherwise wait and try again.'
	},
	TOO_MANY_FAILED_LOOKUPS: {
		status: 429,
		detail: 'Too many unknown passphrases from this address. It is blocked for a while.',
		page: 'Too many unknown passphrases came from this address, so it is blocked for a while.'
	},

	// 5xx: our side.
	INTERNAL_ERROR: { status: 500, detail: 'Something went wrong on our side.' },
	INTEGRITY_CHECK_FAILED: { status: 500, detail: 'This drop is damaged and cannot be opened.' },
	STORE_UNAVAILABLE: {
		status: 503,
		detail: 'The service cannot reach its database right now. Try again shortly.'
	},
	SERVER_BUSY: {
		status: 503,
		detail: 'The server has too many passphrases to work through right now. Try again in a moment.'
	},
	WORDLIST_UNAVAILABLE: { status: 503, detail: 'The word list is not loaded yet.' },
	INSUFFICIENT_STORAGE: {
		status: 507,
		detail: 'The server is low on disk space. Try again later.'
	},
	STORAGE_QUOTA: {
		status: 507,
		detail:
			'This server holds as much as it may right now. Drops expire within an hour: try again later.'
	},
	DISK_FULL: {
		status: 507,
		detail: 'The server ran out of disk space while storing the file. Nothing was kept.'
	}
} as const satisfies Record<string, { status: number; detail: string; page?: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * What an upload's multipart form can get wrong once its body is being read (400s): the
 * OpenAPI document lists them, and drops.ts counts them as the client's own mistakes.
 */
export const UPLOAD_FORM_CODES = [
	'MALFORMED_MULTIPART',
	'MISSING_FILE',
	'MULTIPLE_FILES',
	'UNEXPECTED_FILE_FIELD',
	'EMPTY_FIELD_NAME',
	'FIELD_TOO_LONG',
	'TOO_MANY_FIELDS',
	'INVALID_EXPIRY',
	'INVALID_USES',
	'INVALID_KIND',
	'INVALID_CONTENTS',
	'UPLOAD_INTERRUPTED'
] as const satisfies readonly ErrorCode[];

/** A word of a passphrase that is not in the list, with the nearest words that are. */
export type UnknownWord = { position: number; word: string; suggestions: string[] };

/** The JSON body of every error response. */
export type ErrorBody = {
	error_code: ErrorCode;
	detail: string;
	unknown_words?: UnknownWord[];
	tries_left?: number;
};

export function isErrorCode(code: string): code is ErrorCode {
	return Object.hasOwn(ERRORS, code);
}

/** The codes answered with `status`, in table order (for the OpenAPI document and tests). */
export function codesWithStatus(status: number): ErrorCode[] {
	return (Object.keys(ERRORS) as ErrorCode[]).filter((code) => ERRORS[code].status === status);
}

/** The sentence a page shows for a code when it has nothing more specific. */
export function pageMessage(code: ErrorCode): string {
	const entry: { detail: string; page?: string } = ERRORS[code];
	return entry.page ?? entry.detail;
}

/** A refusal as the pages see it: a code of the catalogue, or the page's own (below). */
export type Failure = {
	status: number;
	/** UNREADABLE_FILE: the page could not read a chosen file (it never reached the server). */
	code: ErrorCode | 'NETWORK' | 'UNREADABLE_FILE' | `HTTP_${number}`;
	message: string;
	retryAfter?: number;
	unknownWords?: UnknownWord[];
};

/**
 * What a refusal says, on the server (`Refusal` in $lib/server/refusal adds `ok` and the
 * limit's headers) and as a page renders it (`pageFailure`).
 */
export type RefusalFields = {
	code: ErrorCode;
	/** A sentence more specific than the catalogue's (the size limit, the words, the wait). */
	detail?: string;
	/** For 429 and 503: how long to wait (the response's Retry-After). */
	retryAfterSeconds?: number;
	/** For INVALID_PASSPHRASE: each unknown word with suggestions. */
	unknownWords?: UnknownWord[];
	/**
	 * For UNKNOWN_PASSPHRASE: how many more unknown passphrases this address may try before
	 * it is blocked (0: this one started the block), and how long a block lasts.
	 */
	triesLeft?: number;
	blockSeconds?: number;
};

/**
 * A refusal as a page's form action answers it (and as the page shows it): the catalogue's
 * status, and the refusal's own sentence (the unknown words, the size limit) or else the
 * catalogue's sentence for pages. Both paths of a page render this one shape.
 */
export function pageFailure(refusal: RefusalFields): Failure {
	const failure: Failure = {
		status: ERRORS[refusal.code].status,
		code: refusal.code,
		message: pageSentence(refusal),
		retryAfter: refusal.retryAfterSeconds
	};
	if (refusal.unknownWords) failure.unknownWords = refusal.unknownWords;
	return failure;
}

/**
 * An unknown passphrase's sentence under the page's title ("No drop has this passphrase"):
 * the tries left before a block where the refusal counted them, else the catalogue's advice,
 * never the API's detail, which would say the title again.
 */
function pageSentence(refusal: RefusalFields): string {
	if (refusal.code !== 'UNKNOWN_PASSPHRASE') return refusal.detail ?? pageMessage(refusal.code);
	const { triesLeft, blockSeconds } = refusal;
	return triesLeft !== undefined && blockSeconds !== undefined
		? unknownPassphraseAdvice(triesLeft, blockSeconds)
		: pageMessage(refusal.code);
}

/**
 * What an unknown passphrase costs the address it came from, said once: how many more may
 * come from it before DOWNLOAD_FAIL_LIMIT blocks it, and for how long. The API's detail and
 * the retrieval page both say it (the page under its own title, "No drop has this passphrase").
 */
export function unknownPassphraseAdvice(triesLeft: number, blockSeconds: number): string {
	const block = formatWait(blockSeconds);
	if (triesLeft <= 0) {
		return `That was the last try: lookups from this network address are now blocked for ${block}.`;
	}
	const more =
		triesLeft === 1 ? 'one more unknown passphrase' : `${triesLeft} more unknown passphrases`;
	return `Check each word for typos: after ${more} from this network address, it is blocked for ${block}.`;
}
