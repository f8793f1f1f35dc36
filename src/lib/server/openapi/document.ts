/**
 * The OpenAPI 3.1 description of the HTTP API, served at /openapi.json and rendered at /docs:
 * paths and operations, and the headers, parameters and shared answers they use. The bodies'
 * schemas are the wire shapes of $lib/schemas (./schemas.ts names them); the error codes each
 * answer can carry are codes of the catalogue ($lib/errors), checked against their status.
 *
 * Written from what the code answers (routes, lookup-routes.ts, upload.ts, drops.ts, the
 * handles in hooks.server.ts), not from what the design hoped for. The integration test
 * tests/integration/openapi.test.ts sends real requests and validates every answer against
 * this document, and fails when a route directory is missing here, so the two cannot drift
 * apart silently.
 */
import type { OpenAPIV3_1 } from 'openapi-types';
import { version } from '../../../../package.json';
import { ERRORS, UPLOAD_FORM_CODES, type ErrorCode } from '../../errors';
import { USES, WordList } from '../../schemas';
import {
	COMPONENT_SCHEMAS,
	errorBodySchema,
	openApiSchema,
	schemaRef,
	type Schema
} from './schemas';

type Ref = OpenAPIV3_1.ReferenceObject;
type Header = OpenAPIV3_1.HeaderObject;
type Response = OpenAPIV3_1.ResponseObject;

/** Every operation here has an id, a summary and a description (/docs and the tests read them). */
export type Operation = OpenAPIV3_1.OperationObject & {
	operationId: string;
	summary: string;
	description: string;
	responses: OpenAPIV3_1.ResponsesObject;
};
export type Method = 'get' | 'head' | 'post';
/** The path items here hold operations only. */
export type PathItem = Partial<Record<Method, Operation>>;
/**
 * The document, typed from openapi-types' parts rather than as its `OpenAPIV3_1.Document`:
 * there a 3.1 path item also carries the 3.0 operation type, to which 3.1's own
 * `RequestBodyObject` cannot be assigned (openapi-types 12.1).
 */
export type ApiDocument = Omit<OpenAPIV3_1.Document, 'paths' | 'components'> & {
	paths: Record<string, PathItem>;
	components: Required<
		Pick<OpenAPIV3_1.ComponentsObject, 'schemas' | 'parameters' | 'headers' | 'responses'>
	>;
};

/** The codes of the catalogue answered with `status`. */
type CodeWithStatus<S extends number> = {
	[C in ErrorCode]: (typeof ERRORS)[C]['status'] extends S ? C : never;
}[ErrorCode];

// ---------------------------------------------------------------------------- headers

/**
 * A header, always sent with the answers that list it.
 *
 * Header and parameter schemas stay within what openapi-types allows there (it types them as
 * OpenAPI 3.0 schemas): `enum: [x]` rather than `const`, a parameter's `example` rather than
 * the schema's `examples`. Both mean the same in 3.1.
 */
function header(description: string, schema: Header['schema']): Header {
	return { description, required: true, schema };
}

const HEADERS = {
	'X-Request-ID': header(
		'A UUID v4 for this request, also in its log line. Sent on every response.',
		{ type: 'string', format: 'uuid' }
	),
	'Retry-After': header('Seconds until the client may try again.', { type: 'integer', minimum: 1 }),
	'RateLimit-Limit': header('Requests (or failures) allowed in the window.', {
		type: 'integer',
		minimum: 1
	}),
	'RateLimit-Remaining': header('What is left of the limit in the current window.', {
		type: 'integer',
		minimum: 0
	}),
	'RateLimit-Reset': header('Seconds until the window resets.', { type: 'integer', minimum: 0 })
} satisfies Record<string, Header>;

const headerRef = (name: keyof typeof HEADERS): Ref => ({ $ref: `#/components/headers/${name}` });

/** Every response Kit produces carries X-Request-ID (hooks: requestId; server/index.js). */
const REQUEST_ID = { 'X-Request-ID': headerRef('X-Request-ID') };
const RATE_LIMIT_HEADERS = {
	'RateLimit-Limit': headerRef('RateLimit-Limit'),
	'RateLimit-Remaining': headerRef('RateLimit-Remaining'),
	'RateLimit-Reset': headerRef('RateLimit-Reset')
};
const REFUSAL_HEADERS = { 'Retry-After': headerRef('Retry-After'), ...RATE_LIMIT_HEADERS };

// ---------------------------------------------------------------------------- answers

function jsonResponse(
	description: string,
	body: Schema,
	headers: Record<string, Ref | Header> = {}
): Response {
	return {
		description,
		headers: { ...REQUEST_ID, ...headers },
		content: { 'application/json': { schema: body } }
	};
}

/**
 * A refusal answered with `status`: the error shape narrowed to `codes`, which TypeScript holds
 * to the codes the catalogue answers with that status.
 */
function errorResponse<S extends number>(
	status: S,
	description: string,
	codes: readonly CodeWithStatus<S>[],
	headers: Record<string, Ref | Header> = {}
): Response {
	const list = codes.map((code) => `\`${code}\``).join(', ');
	return jsonResponse(`${description} \`error_code\`: ${list}.`, errorBodySchema(codes), headers);
}

const RESPONSES = {
	CrossOriginForbidden: errorResponse(
		403,
		"A POST whose `Origin` is neither this site nor listed in `CORS_ORIGINS`, or a lookup sent from another site (`Sec-Fetch-Site: cross-site`: an image, a script, a fetch, a frame, or a navigation, such as a link on that site or a window it opened), refused before any work so that a hostile page cannot spend its visitors' guesses. Clients that send no `Origin` (curl, scripts) are not affected.",
		['CROSS_ORIGIN_FORBIDDEN']
	),
	StoreUnavailable: errorResponse(
		503,
		'The metadata store (Redis) is unreachable; limits fail closed, so nothing is served unchecked (`STORE_UNAVAILABLE`). Or, for a request that brings a passphrase, `KDF_QUEUE_LIMIT` requests already wait for a scrypt, or this one has waited `KDF_MAX_WAIT_MS`, and it is answered then rather than left to wait longer (`SERVER_BUSY`, with `Retry-After`); requests by access key never wait for scrypt.',
		['STORE_UNAVAILABLE', 'SERVER_BUSY'],
		{
			'Retry-After': {
				description: 'With `SERVER_BUSY`: seconds until the client may try again.',
				required: false,
				schema: { type: 'integer', minimum: 1 }
			}
		}
	),
	MisdirectedRequest: errorResponse(
		421,
		'`ORIGIN` is set and the `Host` of the request is neither its host nor a loopback address.',
		['MISDIRECTED_REQUEST']
	),
	InternalError: {
		description:
			'An unexpected error, logged with the request id. JSON for API clients; browsers that ask for HTML get an error page.',
		headers: { ...REQUEST_ID },
		content: {
			'application/json': { schema: schemaRef('InternalError') },
			'text/html': { schema: { type: 'string' } }
		}
	},
	NotFound: errorResponse(
		404,
		'Any path not described here (browsers asking for HTML get an error page instead).',
		['NOT_FOUND']
	),
	MethodNotAllowed: {
		description:
			'Any method a path does not list, in the JSON error shape (`METHOD_NOT_ALLOWED`); `HEAD` is answered wherever `GET` is, except where it would consume something. The `Allow` header lists the methods that work.',
		headers: {
			...REQUEST_ID,
			Allow: header('The methods this path answers, e.g. `POST`.', { type: 'string' })
		},
		content: { 'application/json': { schema: errorBodySchema(['METHOD_NOT_ALLOWED']) } }
	}
} satisfies Record<string, Response>;

const responseRef = (name: keyof typeof RESPONSES): Ref => ({
	$ref: `#/components/responses/${name}`
});

const PARAMETERS = {
	key: {
		name: 'key',
		in: 'path',
		required: true,
		description:
			'The passphrase, words joined by hyphens (case and separators do not matter). It ends up in URLs, and so possibly in proxy logs and browser history: the POST forms (`POST /download`, `POST /status`) exist so that it never needs to sit in a URL.',
		schema: { type: 'string', minLength: 1 },
		example: 'orbit-velvet-gravy-amulet'
	}
} satisfies Record<string, OpenAPIV3_1.ParameterObject>;

const KEY_PARAMETER: Ref = { $ref: '#/components/parameters/key' };

// ------------------------------------------------------------------------------ shared answers

const UPLOAD_400_CODES = [
	'NOT_MULTIPART',
	...UPLOAD_FORM_CODES,
	'INVALID_ACCESS_KEY',
	'INVALID_CLIENT_ADDRESS'
] as const satisfies readonly ErrorCode[];

/** The answers every passphrase lookup shares, whichever way the passphrase arrives. */
const LOOKUP_SHARED = {
	'403': responseRef('CrossOriginForbidden'),
	'421': responseRef('MisdirectedRequest'),
	'404': jsonResponse(
		'No drop has this passphrase (or its tombstone has lapsed too). Counts as a failed lookup for the client address; `DOWNLOAD_FAIL_LIMIT` of them block it, and `tries_left` says how many more it may try. `error_code`: `UNKNOWN_PASSPHRASE`.',
		schemaRef('UnknownPassphraseError')
	),
	'429': errorResponse(
		429,
		'This client address is blocked after too many unknown passphrases (`TOO_MANY_FAILED_LOOKUPS`, on every lookup route for `DOWNLOAD_BLOCK_WINDOW` seconds), or made too many lookups (`RATE_LIMITED`: `LOOKUP_RATE_LIMIT`) or sent too many malformed passphrases (`RATE_LIMITED`, 30 per 10 minutes).',
		['TOO_MANY_FAILED_LOOKUPS', 'RATE_LIMITED'],
		REFUSAL_HEADERS
	),
	'500': responseRef('InternalError'),
	'503': responseRef('StoreUnavailable')
} satisfies OpenAPIV3_1.ResponsesObject;

/** 400 for a passphrase from the path: only the word check (or the proxy's address) can fail. */
const LOOKUP_400_PATH = jsonResponse(
	'The passphrase is malformed: empty, the wrong number of words, or words that are not in the list (each named in `unknown_words`, the first three with suggestions). Costs no scrypt and is not a failed lookup, but is rate-limited on its own. Behind a proxy, `INVALID_CLIENT_ADDRESS` when `ADDRESS_HEADER` is missing or not an address.',
	{ oneOf: [schemaRef('InvalidPassphraseError'), errorBodySchema(['INVALID_CLIENT_ADDRESS'])] }
);

/** The POST forms read a small body first; these are its own refusals. */
const LOOKUP_BODY_ANSWERS: OpenAPIV3_1.ResponsesObject = {
	'400': jsonResponse(
		'The body names no passphrase or cannot be read (`BAD_REQUEST`), the passphrase is malformed (`INVALID_PASSPHRASE`, with `unknown_words`), or the access key is not 43 characters of base64url (`INVALID_ACCESS_KEY`).',
		{
			oneOf: [
				errorBodySchema(['BAD_REQUEST', 'INVALID_ACCESS_KEY', 'INVALID_CLIENT_ADDRESS']),
				schemaRef('InvalidPassphraseError')
			]
		}
	),
	'403': responseRef('CrossOriginForbidden'),
	'413': errorResponse(413, 'The body is larger than 4,096 bytes.', ['BODY_TOO_LARGE']),
	'415': errorResponse(
		415,
		'The body is neither `application/x-www-form-urlencoded` nor `application/json`.',
		['UNSUPPORTED_MEDIA_TYPE']
	)
};

const PASSPHRASE_BODY: OpenAPIV3_1.RequestBodyObject = {
	description:
		'The passphrase, as typed or pasted: case, spaces and punctuation between the words do not matter; or its `access_key` (what the pages send: the passphrase never leaves the browser, and the server runs no scrypt). At most 4,096 bytes. A field named `key` is accepted in place of `passphrase`. A body without a Content-Type is read as a form. With an `X-Access-Key` header the body is not read.',
	required: false,
	content: {
		'application/x-www-form-urlencoded': { schema: schemaRef('PassphraseBody') },
		'application/json': { schema: schemaRef('PassphraseBody') }
	}
};

// ------------------------------------------------------------------------------ lookups

const DOWNLOAD_200: Response = {
	description:
		'The file, decrypted while it streams. One use is taken before the first byte is sent, so an interrupted download still counts. Should decryption or the final SHA-256 check fail, the transfer is broken off (the client never receives wrong bytes). `Content-Type` is the type detected from the bytes at upload, never the one the sender claimed.',
	headers: {
		...REQUEST_ID,
		'Content-Disposition': header(
			'Always an attachment, with an ASCII `filename` and the UTF-8 `filename*` of RFC 6266 (the sanitised name given at upload).',
			{ type: 'string', pattern: '^attachment;' }
		),
		'Content-Length': header('The size of the plaintext in bytes.', {
			type: 'integer',
			minimum: 0
		}),
		'X-SHA256': header(
			'SHA-256 of the plaintext (hex), recorded at upload; check it after downloading.',
			schemaRef('Sha256')
		),
		'X-Remaining-Uses': header(
			'Downloads left after this one; 0 means this was the last and the drop is gone.',
			{ type: 'integer', minimum: 0, maximum: USES.max - 1 }
		),
		'Content-Security-Policy': header(
			'Should a browser render the file anyway: no scripts, no plugins, no origin.',
			{ type: 'string', enum: ["default-src 'none'; sandbox"] }
		),
		'X-Content-Type-Options': header('Never sniffed.', { type: 'string', enum: ['nosniff'] })
	},
	content: { '*/*': {} }
};

const DOWNLOAD_410 = errorResponse(
	410,
	'The drop is gone: downloaded as many times as allowed (`ALREADY_DOWNLOADED`), expired (`EXPIRED`), or its file is no longer on this server (`FILE_MISSING`). The first two are known from a tombstone kept until one hour after the original expiry.',
	['ALREADY_DOWNLOADED', 'EXPIRED', 'FILE_MISSING']
);

const DOWNLOAD_500: Response = {
	description:
		'The stored metadata failed authentication (`INTEGRITY_CHECK_FAILED`; the use is already spent), or an unexpected error (`INTERNAL_ERROR`).',
	headers: { ...REQUEST_ID },
	content: {
		'application/json': {
			schema: {
				oneOf: [errorBodySchema(['INTEGRITY_CHECK_FAILED']), schemaRef('InternalError')]
			}
		}
	}
};

type Source = 'path' | 'body';

/**
 * A passphrase lookup, the passphrase from the path (`{key}`) or from a form or JSON body:
 * the refusals of that source and those every lookup shares, plus (or replaced by) `answers`.
 */
function lookupOperation(
	source: Source,
	about: Pick<Operation, 'operationId' | 'summary' | 'description'>,
	answers: OpenAPIV3_1.ResponsesObject
): Operation {
	const byPath = source === 'path';
	return {
		...about,
		tags: ['drops'],
		...(byPath ? { parameters: [KEY_PARAMETER] } : { requestBody: PASSPHRASE_BODY }),
		responses: {
			...(byPath ? { '400': LOOKUP_400_PATH } : LOOKUP_BODY_ANSWERS),
			...LOOKUP_SHARED,
			...answers
		}
	};
}

/** A download's own answers; its 500 also names INTEGRITY_CHECK_FAILED. */
const DOWNLOAD_ANSWERS = { '200': DOWNLOAD_200, '410': DOWNLOAD_410, '500': DOWNLOAD_500 };

const STATUS_ANSWERS = {
	'200': jsonResponse('What is known about the drop.', schemaRef('DropStatus'))
};
const STATUS_DESCRIPTION =
	'Consumes nothing. A drop that was used up or has expired answers 200 with `status` `burned` or `expired` (from its tombstone, kept until one hour after the original expiry); after that the passphrase is unknown (404).';

/**
 * HEAD on a link that consumes something. Kit would run GET for it, so `curl -I` or a link
 * checker would burn the drop; the route refuses it instead, consuming nothing.
 */
function refusedHead(operationId: string, what: string): Operation {
	return {
		operationId,
		summary: `HEAD is refused (it would consume ${what})`,
		description: `Answers 405 with \`Allow: GET\` and consumes nothing, so \`curl -I\` and link checkers cannot burn ${what}. Still subject to the brute-force block.`,
		tags: ['drops'],
		parameters: [KEY_PARAMETER],
		responses: {
			'405': {
				description:
					'Always, unless the address is blocked or the store is down. `error_code`: `METHOD_NOT_ALLOWED` (no body is sent, as for any HEAD).',
				headers: {
					...REQUEST_ID,
					Allow: header('The method to use.', { type: 'string', enum: ['GET'] })
				},
				content: { 'application/json': { schema: errorBodySchema(['METHOD_NOT_ALLOWED']) } }
			},
			'429': LOOKUP_SHARED['429'],
			'500': responseRef('InternalError'),
			'503': responseRef('StoreUnavailable')
		}
	};
}

/** The health report, its `status` narrowed to what this answer says. */
function healthReport(status: 'healthy' | 'degraded'): Schema {
	return {
		...schemaRef('HealthReport'),
		type: 'object',
		properties: { status: { const: status } }
	};
}

// ------------------------------------------------------------------------------ the document

const SECURITY_MODEL = `
Raven Zero is an ephemeral, encrypted file drop. Upload a file, get a diceware passphrase such as
\`orbit-velvet-gravy-amulet\`, hand it over; the recipient downloads the file, which destroys
itself after its last allowed download or when its time runs out.

## Security model
- **The passphrase is the only key.** The server derives everything from it
  (scrypt, then HKDF): the id the store and disk know, the key of the sealed metadata and the
  key of the file (AES-256-GCM, in authenticated chunks). It keeps no key, no plaintext and no
  file name: a full copy of the disk and the database reveals nothing without guessing the
  passphrase through scrypt.
- **Keep passphrases out of URLs.** \`GET\` routes with \`{key}\` in the path exist for the seed
  service's clients and \`curl -OJ\`. \`POST /download\` and \`POST /status\` take the passphrase in
  the body instead, so it never appears in proxy logs or browser history.
- **Self-destruction.** The last allowed download or the expiry deletes the record and shreds
  the file; a content-free tombstone (\`burned\` / \`expired\`) is kept until one hour after the
  original expiry so that \`status\` can say what happened.
- **Brute force.** Every unknown passphrase counts a failure for the client address; after
  \`DOWNLOAD_FAIL_LIMIT\` (default 10) that address is blocked on every lookup route for
  \`DOWNLOAD_BLOCK_WINDOW\` seconds (default 1800). Malformed passphrases are refused early and
  limited separately. \`X-Forwarded-For\` is not trusted unless the operator configures it.
- **Cross-origin.** No CORS by default. A \`POST\` carrying an \`Origin\` of another site is refused
  with 403 unless the operator lists it in \`CORS_ORIGINS\`; clients that send no \`Origin\`
  (curl, scripts) are accepted.

## Conventions
- Paths answer with or without a trailing slash.
- Errors are JSON \`{"error_code": "UPPER_SNAKE", "detail": "a sentence"}\` (exceptions: a
  method a path does not have is a plain-text 405, and an unexpected error is the
  \`InternalError\` shape).
- Every response carries \`X-Request-ID\`, which also appears in the server's log line, and
  \`Cache-Control: no-store\`.
`.trim();

/** The document without `servers`, which depend on where it is served from. */
/** The document without `servers`, which depend on where it is served from. */
export const OPENAPI_DOCUMENT: Readonly<Omit<ApiDocument, 'servers'>> = {
	openapi: '3.1.0',
	jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
	info: {
		title: 'Raven Zero',
		version,
		summary: 'Self-hosted, ephemeral, encrypted file drop.',
		description: SECURITY_MODEL
	},
	tags: [
		{ name: 'drops', description: 'Upload, inspect and download drops.' },
		{ name: 'service', description: 'Health and this description.' }
	],
	paths: {
		'/upload/': {
			post: {
				operationId: 'upload',
				summary: 'Upload a file and get its passphrase',
				description:
					'Streams the file in, encrypting it as it arrives (`curl -F file=@secret.pdf -F expiry=10 -F uses=1`). Fields may come before or after the file; fields other than `file`, `expiry`, `uses`, `kind` and `contents` are ignored. The send page marks text typed on it with `kind=text`, and zips several files into one (`kind=archive`) with their names in `contents`; both are sealed with the metadata. The type is detected from the bytes. Limited per client address by `UPLOAD_RATE_LIMIT` and `UPLOAD_BYTE_LIMIT`, and in all by `STORAGE_QUOTA` and `MAX_LIVE_DROPS`. Nothing is left on disk when an upload fails.',
				tags: ['drops'],
				parameters: [
					{
						name: 'X-Access-Key',
						in: 'header',
						required: false,
						description:
							'The access key of a passphrase the sender drew itself (the send page does): the server then answers without `key` and links, which it cannot know, and 409 `DROP_EXISTS` when a drop already holds that access key (draw again). Such uploads count against `UPLOAD_RATE_LIMIT` like any other.',
						schema: schemaRef('AccessKey')
					}
				],
				requestBody: {
					description:
						'One file in the field `file`, and optional `expiry`, `uses`, `kind` and `contents`.',
					required: true,
					content: { 'multipart/form-data': { schema: schemaRef('UploadForm') } }
				},
				responses: {
					'201': jsonResponse(
						'Stored. `key` is the passphrase: it is shown this once and cannot be recovered.',
						schemaRef('CreatedDrop'),
						RATE_LIMIT_HEADERS
					),
					'400': errorResponse(400, 'The form is not what the server expects.', UPLOAD_400_CODES),
					'403': responseRef('CrossOriginForbidden'),
					'421': responseRef('MisdirectedRequest'),
					'409': errorResponse(
						409,
						'With `X-Access-Key`: a drop (live, or its tombstone) or an upload in progress already holds that access key. Draw another passphrase and send again.',
						['DROP_EXISTS']
					),
					'413': errorResponse(
						413,
						'The file is larger than `MAX_FILE_SIZE` (refused from the declared length when it is known, otherwise the moment the limit is passed).',
						['FILE_TOO_LARGE']
					),
					'415': errorResponse(
						415,
						'`ALLOWED_MIME_TYPES` is set and the detected type is not in it.',
						['UNSUPPORTED_FILE_TYPE']
					),
					'429': errorResponse(
						429,
						'Too many uploads from this client address (`RATE_LIMITED`: `UPLOAD_RATE_LIMIT` counts stored drops and access-key collisions; refused uploads have their own limit, 100 an hour), or it has sent its bytes for the window (`UPLOAD_BUDGET_EXCEEDED`: `UPLOAD_BYTE_LIMIT`; `RateLimit-Remaining` then counts bytes, and a smaller file may still fit). Refused before the body is read when the declared length does not fit, otherwise the moment it is passed.',
						['RATE_LIMITED', 'UPLOAD_BUDGET_EXCEEDED'],
						REFUSAL_HEADERS
					),
					'500': responseRef('InternalError'),
					'503': responseRef('StoreUnavailable'),
					'507': errorResponse(
						507,
						'Free disk space is under `MIN_FREE_DISK_MB` (`INSUFFICIENT_STORAGE`, before reading), the storage quota is reached (`STORAGE_QUOTA`: `STORAGE_QUOTA` bytes or `MAX_LIVE_DROPS` drops across every instance; before reading when the declared length does not fit, otherwise the moment it is passed), or the disk filled up during the upload (`DISK_FULL`). Nothing was kept.',
						['INSUFFICIENT_STORAGE', 'STORAGE_QUOTA', 'DISK_FULL']
					)
				}
			}
		},
		'/download/{key}': {
			get: lookupOperation(
				'path',
				{
					operationId: 'downloadByPath',
					summary: 'Download the file (passphrase in the path)',
					description:
						"The seed service's download link, for `curl -OJ`. Consumes one use. `HEAD` is refused (405) so that it consumes nothing. Prefer `POST /download` where a URL may be logged."
				},
				DOWNLOAD_ANSWERS
			),
			head: refusedHead('downloadHead', 'a download')
		},
		'/download': {
			post: lookupOperation(
				'body',
				{
					operationId: 'downloadByBody',
					summary: 'Download the file (passphrase in the body)',
					description:
						"The same download with the passphrase in a form or JSON body, so it never sits in a URL, a proxy log or the browser history. Consumes one use. The retrieval page without JavaScript also sends `uses_shown`, the count it showed: a browser form whose download would take the last use while it showed more is answered 307 to the page's Check (`/r?/check`, the body kept) instead, so the page can warn of the last use first. Other clients never get it."
				},
				DOWNLOAD_ANSWERS
			)
		},
		'/preview/{key}': {
			get: lookupOperation(
				'path',
				{
					operationId: 'preview',
					summary: 'See the metadata once',
					description:
						"The seed service's one-time preview: only the first call (of any number racing) answers 200; later ones answer 410 `PREVIEW_ALREADY_SEEN`. Consumes no download. `HEAD` is refused (405) so that it cannot use up the preview."
				},
				{
					'200': jsonResponse('The metadata of the drop.', schemaRef('DropPreview')),
					'410': errorResponse(
						410,
						'The preview was already seen (the file can still be downloaded), or the drop is used up or expired.',
						['PREVIEW_ALREADY_SEEN', 'ALREADY_DOWNLOADED', 'EXPIRED']
					)
				}
			),
			head: refusedHead('previewHead', 'the preview')
		},
		'/status/{key}': {
			get: lookupOperation(
				'path',
				{
					operationId: 'statusByPath',
					summary: 'What is waiting under a passphrase (in the path)',
					description: STATUS_DESCRIPTION
				},
				STATUS_ANSWERS
			)
		},
		'/status': {
			post: lookupOperation(
				'body',
				{
					operationId: 'statusByBody',
					summary: 'What is waiting under a passphrase (in the body)',
					description: `${STATUS_DESCRIPTION} The passphrase travels in the body, so it never sits in a URL.`
				},
				STATUS_ANSWERS
			)
		},
		'/destroy': {
			post: lookupOperation(
				'body',
				{
					operationId: 'destroy',
					summary: 'Destroy the drop now',
					description:
						'Burns the drop at once, whatever uses are left: the record is deleted, a `burned` tombstone stays (as after the last download), and the file is shredded as soon as no download is still reading it (a download already under way finishes). For the sender who changed their mind; the passphrase or access key is the capability, since whoever has it could take the file anyway. Answers the status the drop now has.'
				},
				{
					'200': jsonResponse('Destroyed: the drop is now `burned`.', schemaRef('DropStatus')),
					'410': errorResponse(410, 'The drop was already used up or has expired.', [
						'ALREADY_DOWNLOADED',
						'EXPIRED'
					])
				}
			)
		},
		'/health/': {
			get: {
				operationId: 'health',
				summary: 'Is the service usable?',
				description:
					'For monitors. `healthy` only when the store, the storage folders, the background jobs and the word list are all usable (the in-process store counts as usable: `embedded`). Limited per client address by `HEALTH_RATE_LIMIT` (default 1/second).',
				tags: ['service'],
				responses: {
					'200': jsonResponse(
						'Every service is usable.',
						healthReport('healthy'),
						RATE_LIMIT_HEADERS
					),
					'429': errorResponse(
						429,
						'Too many health checks from this client address.',
						['RATE_LIMITED'],
						REFUSAL_HEADERS
					),
					'500': responseRef('InternalError'),
					'503': jsonResponse(
						'At least one service is not usable; `services` says which.',
						healthReport('degraded'),
						RATE_LIMIT_HEADERS
					)
				}
			}
		},
		'/openapi.json': {
			get: {
				operationId: 'openapi',
				summary: 'This document',
				description:
					'The OpenAPI 3.1 description of the API, with `servers` set to the origin it was requested from (or `ORIGIN`). A readable version is at `/docs`.',
				tags: ['service'],
				responses: {
					'200': jsonResponse('The OpenAPI document.', { type: 'object', required: ['openapi'] }),
					'500': responseRef('InternalError')
				}
			}
		},
		'/words.json': {
			get: {
				operationId: 'words',
				summary: 'The words a passphrase can contain',
				description:
					'The diceware list without the four words that contain a hyphen (they are never drawn), so that a client can check and correct what is typed without sending it anywhere. The list is public: the strength of a passphrase is in the random draw.',
				tags: ['service'],
				responses: {
					'200': jsonResponse('The words, in list order.', openApiSchema(WordList)),
					'500': responseRef('InternalError'),
					'503': errorResponse(503, ERRORS.WORDLIST_UNAVAILABLE.detail, ['WORDLIST_UNAVAILABLE'])
				}
			}
		}
	},
	components: {
		schemas: COMPONENT_SCHEMAS,
		parameters: PARAMETERS,
		headers: HEADERS,
		responses: RESPONSES
	}
};

/** The document as served: `servers` is the public origin it was asked for from. */
export function documentFor(origin: string): ApiDocument {
	return { ...OPENAPI_DOCUMENT, servers: [{ url: origin, description: 'This server' }] };
}
