/**
 * Every JSON shape the HTTP API sends or reads, written once as a JSON Schema (TypeBox), with
 * its TypeScript type derived from it (`Static`). The server builds its bodies through
 * functions typed with these (server/http/responses.ts, health.ts), the OpenAPI document's
 * `components.schemas` are these very objects (server/openapi/schemas.ts), the pages' client
 * (api.ts) reads the same types, and the tests validate real answers against them with ajv.
 *
 * Universal code: the pages import the types only (`import type`), so TypeBox stays on the
 * server. Nothing from the server is imported here.
 *
 * The schemas are JSON Schema 2020-12, the dialect of OpenAPI 3.1. Each one is complete in
 * itself (no `$ref`), so any validator can check a body against it on its own.
 */
import Type, { type Static } from 'typebox';
import { ACCESS_KEY_BYTES, ACCESS_KEY_SALT, ACCESS_KEY_SCRYPT } from './access-key-params';
import {
	CONTENTS,
	DROP_KINDS,
	EXPIRY_MINUTES,
	USES,
	type ContentsEntry as ContentsEntryType
} from './drop-bounds';
import { ERRORS, type ErrorBody as CatalogueErrorBody, type ErrorCode } from './errors';

export { EXPIRY_MINUTES, USES } from './drop-bounds';

// ------------------------------------------------------------------------------- fields

/** Diceware words joined by hyphens, as the server hands them out. */
const passphrase = (description: string) =>
	Type.String({
		description,
		pattern: '^[a-z]+(-[a-z]+){2,9}$',
		examples: ['orbit-velvet-gravy-amulet']
	});

export const Passphrase = passphrase(
	'Diceware words joined by hyphens (`PASSPHRASE_WORDS`, default 4).'
);
export type Passphrase = Static<typeof Passphrase>;

/** What the pages send in place of the passphrase (access-key-params.ts). */
export const AccessKey = Type.String({
	description: `base64url (no padding) of scrypt(normalised passphrase, "${ACCESS_KEY_SALT}", N=2^${Math.log2(ACCESS_KEY_SCRYPT.N)}, r=${ACCESS_KEY_SCRYPT.r}, p=${ACCESS_KEY_SCRYPT.p}, ${ACCESS_KEY_BYTES} bytes). A secret equal to the passphrase.`,
	// 32 bytes: 42 characters of 6 bits, then one whose 2 low bits are zero (one spelling only).
	pattern: '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$'
});
export type AccessKey = Static<typeof AccessKey>;

export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Timestamp = Type.String({ format: 'date-time' });
const MimeType = Type.String({
	description: 'Detected from the bytes; `application/octet-stream` when unknown.',
	examples: ['application/pdf']
});
const Filename = Type.String({
	description:
		"The sender's file name, sanitised: no path, no control or bidi characters, at most 255 characters."
});
const Bytes = Type.Integer({ minimum: 0 });
const ExpiryMinutes = Type.Integer({ minimum: EXPIRY_MINUTES.min, maximum: EXPIRY_MINUTES.max });
const Uses = Type.Integer({ minimum: USES.min, maximum: USES.max });
const Url = Type.String({ format: 'uri' });
const Kind = Type.Enum([...DROP_KINDS], {
	description:
		'What the drop holds: `file`, `text` (typed or pasted on the send page: the retrieval page shows it as text), or `archive` (a zip of several files; `contents` lists them).'
});

/** One file of an archive, as the sender listed it. */
export const ContentsEntry = Type.Object(
	{
		name: Type.String({
			minLength: 1,
			maxLength: CONTENTS.maxNameBytes,
			description:
				'Its path inside the zip (`photos/beach.jpg`), sanitised as file names are (no control or bidi characters, no `..`), at most 1,024 bytes.'
		}),
		size: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Bytes.' })
	},
	{ additionalProperties: false }
);

/** The `contents` of an archive: what the recipient is shown before downloading. */
export const Contents = Type.Array(ContentsEntry, {
	maxItems: CONTENTS.maxEntries,
	description: `The files in the archive, in order: at most ${CONTENTS.maxEntries} entries.`
});

/** Closed objects: a field the schema does not name is a mistake, on either side. */
const closed = { additionalProperties: false } as const;

// ------------------------------------------------------------------------------- requests

/** `POST /upload/`: the multipart form (the file's bytes are not JSON; this names the fields). */
export const UploadForm = Type.Object({
	file: Type.String({
		contentMediaType: 'application/octet-stream',
		description:
			'Sent with its file name (`-F file=@name`). The Content-Type the client gives is ignored.'
	}),
	expiry: Type.Optional(
		Type.With(ExpiryMinutes, {
			default: EXPIRY_MINUTES.default,
			description: 'Minutes until the drop expires.'
		})
	),
	uses: Type.Optional(
		Type.With(Uses, { default: USES.default, description: 'How many downloads are allowed.' })
	),
	kind: Type.Optional(
		Type.With(Kind, {
			default: 'file',
			description:
				"`text` marks text the recipient's page shows as text (curl still gets the bytes); `archive` a zip of several files, listed in `contents` (`archive` is the default when `contents` is sent). Sealed with the metadata."
		})
	),
	contents: Type.Optional(
		Type.String({
			contentMediaType: 'application/json',
			contentSchema: Contents,
			description: `For an archive: JSON, an array of \`{"name": "photos/beach.jpg", "size": 48213}\` (at most ${CONTENTS.maxEntries} entries and ${CONTENTS.maxBytes / 1024} KiB), shown to the recipient by \`status\` and the retrieval page. Sealed with the metadata. Send it before the file, so a bad list is refused before the upload.`
		})
	)
});

/** `POST /download`, `POST /status`: the passphrase or its access key, as a form or JSON. */
export const PassphraseBody = Type.Object(
	{
		passphrase: Type.Optional(Type.String({ examples: ['orbit-velvet-gravy-amulet'] })),
		key: Type.Optional(Type.String({ description: 'Accepted in place of `passphrase`.' })),
		access_key: Type.Optional(AccessKey)
	},
	{ anyOf: [{ required: ['passphrase'] }, { required: ['key'] }, { required: ['access_key'] }] }
);
export type PassphraseBody = Static<typeof PassphraseBody>;

// ------------------------------------------------------------------------------- answers

/** `POST /upload/` -> 201. */
export const CreatedDropBody = Type.Object(
	{
		key: Type.Optional(passphrase('The passphrase.')),
		preview_url: Type.Optional(Type.With(Url, { description: 'Built from `ORIGIN` when set.' })),
		download_url: Type.Optional(Url),
		expiry: Type.With(ExpiryMinutes, { description: 'Minutes.' }),
		uses: Uses,
		filename: Filename,
		size: Type.With(Bytes, { description: 'Bytes.' }),
		mime_type: MimeType,
		created_at: Timestamp,
		expires_at: Timestamp,
		sha256: Sha256
	},
	{
		...closed,
		description:
			'`key`, `preview_url` and `download_url` are present when the server drew the passphrase; an upload with `X-Access-Key` gets none of them.'
	}
);
export type CreatedDropBody = Static<typeof CreatedDropBody>;

/** `GET /preview/{key}` -> 200, once. */
export const DropPreviewBody = Type.Object(
	{
		filename: Filename,
		size: Bytes,
		mime_type: MimeType,
		expiry: Type.With(ExpiryMinutes, { description: 'As uploaded.' }),
		uses: Type.With(Uses, { description: 'Downloads left.' }),
		minutes_left: Type.Integer({ minimum: 0 }),
		expires_at: Timestamp,
		download_url: Url,
		curl_example: Type.String({ examples: ['curl -OJ https://host/download/KEY'] }),
		created_at: Timestamp,
		sha256: Sha256
	},
	closed
);
export type DropPreviewBody = Static<typeof DropPreviewBody>;

const DropState = Type.Enum(['active', 'expired', 'burned']);

/** `GET /status/{key}`, `POST /status` -> 200. */
export const DropStatusBody = Type.Object(
	{
		key: Type.Union([Passphrase, Type.Null()], {
			description: 'The passphrase, normalised; null when asked by access key.'
		}),
		status: DropState,
		remaining_uses: Type.Integer({ minimum: 0, maximum: USES.max }),
		expires_at: Type.Union([Timestamp, Type.Null()]),
		is_accessible: Type.Boolean({ description: 'True exactly when `active`.' }),
		filename: Type.Union([Filename, Type.Null()]),
		size: Type.Union([Bytes, Type.Null()]),
		mime_type: Type.Union([MimeType, Type.Null()]),
		sha256: Type.Union([Sha256, Type.Null()], {
			description: 'SHA-256 of the file (hex), to compare after downloading.'
		}),
		kind: Type.Union([Kind, Type.Null()]),
		contents: Type.Union([Contents, Type.Null()], {
			description: 'The files in the zip when `kind` is `archive`, else null.'
		})
	},
	{
		...closed,
		description:
			'`expires_at`, `filename`, `size`, `mime_type`, `sha256` and `kind` are null unless `status` is `active`.'
	}
);
export type DropStatusBody = Static<typeof DropStatusBody>;

export const ServiceState = Type.Enum(['online', 'offline']);
export type ServiceState = Static<typeof ServiceState>;

/** `GET /health/` -> 200 (`healthy`) or 503 (`degraded`). */
export const HealthReport = Type.Object(
	{
		status: Type.Enum(['healthy', 'degraded']),
		version: Type.String(),
		timestamp: Timestamp,
		services: Type.Object(
			{
				redis: Type.Enum(['online', 'offline', 'embedded'], {
					description: '`embedded`: the in-process store (no REDIS_URL).'
				}),
				storage: ServiceState,
				scheduler: ServiceState,
				diceware: ServiceState
			},
			closed
		),
		uptime_seconds: Type.Integer({ minimum: 0 }),
		started_at: Timestamp
	},
	closed
);
export type HealthReport = Static<typeof HealthReport>;

/** `GET /words.json` -> 200: the words a passphrase can contain, in list order. */
export const WordList = Type.Array(Type.String({ pattern: '^[a-z]+$' }), { minItems: 1 });

// ------------------------------------------------------------------------------- refusals

/** The catalogue's codes, in its order. */
const CODES = Object.keys(ERRORS) as ErrorCode[];

/** A word of a passphrase that is not in the list, with the nearest words that are. */
export const UnknownWord = Type.Object(
	{
		position: Type.Integer({ minimum: 0, description: 'Zero-based.' }),
		word: Type.String(),
		suggestions: Type.Array(Type.String(), {
			description: 'At most five, closest first; empty past the third unknown word.'
		})
	},
	closed
);
export type UnknownWord = Static<typeof UnknownWord>;

const errorFields = {
	error_code: Type.Enum(CODES),
	detail: Type.String({ description: 'A sentence for a human.' })
};
const unknownWords = Type.Array(UnknownWord, {
	description:
		'The words not in the list, the first three with the closest ones that are. Empty when the problem is the number of words or an empty passphrase.'
});

const triesLeft = Type.Integer({
	minimum: 0,
	description:
		'How many more unknown passphrases this client address may try before it is blocked for `DOWNLOAD_BLOCK_WINDOW` (0: this one started the block). Counted across instances; failures racing on other instances can make the real number a little lower.'
});

/**
 * The JSON body of every refusal (http/refusals.ts); `unknown_words` only for
 * INVALID_PASSPHRASE, `tries_left` only for UNKNOWN_PASSPHRASE.
 */
export const ErrorBody = Type.Object(
	{
		...errorFields,
		unknown_words: Type.Optional(unknownWords),
		tries_left: Type.Optional(triesLeft)
	},
	closed
);
export type ErrorBody = Static<typeof ErrorBody>;

/** A refusal other than INVALID_PASSPHRASE: the code and its sentence, nothing else. */
export const PlainErrorBody = Type.Object(errorFields, {
	...closed,
	description: 'What every expected failure answers.'
});

/** INVALID_PASSPHRASE: always with the unknown words (possibly none). */
export const InvalidPassphraseBody = Type.Object(
	{
		error_code: Type.Literal('INVALID_PASSPHRASE'),
		detail: Type.String(),
		unknown_words: unknownWords
	},
	closed
);

/** UNKNOWN_PASSPHRASE: always with the tries left before a block. */
export const UnknownPassphraseBody = Type.Object(
	{
		error_code: Type.Literal('UNKNOWN_PASSPHRASE'),
		detail: Type.String(),
		tries_left: triesLeft
	},
	closed
);

/** An unexpected error (hooks.server.ts `handleError`, http/not-found.ts). */
export const InternalErrorBody = Type.Object(
	{
		message: Type.String(),
		error_code: Type.Literal('INTERNAL_ERROR'),
		detail: Type.String(),
		request_id: Type.String()
	},
	closed
);
export type InternalErrorBody = Static<typeof InternalErrorBody>;

// The catalogue ($lib/errors) declares these two types by hand for the server's refusals; the
// schemas must describe exactly them (the identity test TypeScript itself uses for types, so
// an optional field more or less counts). A difference fails `npm run check` here.
type Same<A, B> =
	(<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
true satisfies Same<ErrorBody, CatalogueErrorBody>;
true satisfies Same<UnknownWord, NonNullable<CatalogueErrorBody['unknown_words']>[number]>;
// The pages use the plain type of drop-bounds.ts (no schema library in the browser).
true satisfies Same<Static<typeof ContentsEntry>, ContentsEntryType>;
