/**
 * The OpenAPI 3.1 description of the HTTP API, served at /openapi.json and rendered at /docs.
 *
 * Written by hand from what the code answers (routes, lookup-routes.ts, upload.ts, drops.ts,
 * the handles in hooks.server.ts), not from what the design hoped for. The integration test
 * tests/integration/openapi.test.ts sends real requests and validates every answer against
 * this document, and fails when a route directory is missing here, so the two cannot drift
 * apart silently. Schemas are JSON Schema 2020-12 (the OpenAPI 3.1 dialect).
 */
import { version } from '../../../../package.json';
import type { ErrorCode } from '../../errors';

/** A JSON Schema 2020-12 object; kept loose on purpose (the test compiles it with ajv). */
export type JsonSchema = { [keyword: string]: unknown };
type Ref = { $ref: string };

export type HeaderObject = { description: string; required?: boolean; schema: JsonSchema };
export type MediaTypeObject = { schema?: JsonSchema };
export type ResponseObject = {
	description: string;
	headers?: Record<string, HeaderObject | Ref>;
	content?: Record<string, MediaTypeObject>;
};
export type ParameterObject = {
	name: string;
	in: 'path' | 'query' | 'header';
	required: boolean;
	description: string;
	schema: JsonSchema;
};
export type RequestBodyObject = {
	description: string;
	required: boolean;
	content: Record<string, MediaTypeObject>;
};
export type OperationObject = {
	operationId: string;
	summary: string;
	description: string;
	tags: string[];
	parameters?: (ParameterObject | Ref)[];
	requestBody?: RequestBodyObject;
	responses: Record<string, ResponseObject | Ref>;
};
export type PathItemObject = {
	get?: OperationObject;
	head?: OperationObject;
	post?: OperationObject;
};
export type OpenApiDocument = {
	openapi: '3.1.0';
	jsonSchemaDialect: string;
	info: { title: string; version: string; summary: string; description: string };
	servers: { url: string; description?: string }[];
	tags: { name: string; description: string }[];
	paths: Record<string, PathItemObject>;
	components: {
		schemas: Record<string, JsonSchema>;
		parameters: Record<string, ParameterObject>;
		headers: Record<string, HeaderObject>;
		responses: Record<string, ResponseObject>;
	};
};

// ---------------------------------------------------------------------------- building blocks

const schema = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
const header = (name: string): Ref => ({ $ref: `#/components/headers/${name}` });

/** Every response Kit produces carries X-Request-ID (hooks: requestId; server/index.js). */
const REQUEST_ID = { 'X-Request-ID': header('X-Request-ID') };
const RATE_LIMIT_HEADERS = {
	'RateLimit-Limit': header('RateLimit-Limit'),
	'RateLimit-Remaining': header('RateLimit-Remaining'),
	'RateLimit-Reset': header('RateLimit-Reset')
};
const REFUSAL_HEADERS = { 'Retry-After': header('Retry-After'), ...RATE_LIMIT_HEADERS };

function jsonResponse(
	description: string,
	body: JsonSchema,
	headers: Record<string, Ref | HeaderObject> = {}
): ResponseObject {
	return {
		description,
		headers: { ...REQUEST_ID, ...headers },
		content: { 'application/json': { schema: body } }
	};
}

/** The error shape, narrowed to the codes this response can carry. */
function errorBody(codes: readonly ErrorCode[]): JsonSchema {
	return { ...schema('Error'), type: 'object', properties: { error_code: { enum: [...codes] } } };
}

function errorResponse(
	description: string,
	codes: readonly ErrorCode[],
	headers: Record<string, Ref | HeaderObject> = {}
): ResponseObject {
	const list = codes.map((code) => `\`${code}\``).join(', ');
	return jsonResponse(`${description} \`error_code\`: ${list}.`, errorBody(codes), headers);
}

const ref = (kind: 'responses' | 'parameters', name: string): Ref => ({
	$ref: `#/components/${kind}/${name}`
});

// ------------------------------------------------------------------------------ shared answers

const UPLOAD_400_CODES = [
	'NOT_MULTIPART',
	'MALFORMED_MULTIPART',
	'MISSING_FILE',
	'MULTIPLE_FILES',
	'UNEXPECTED_FILE_FIELD',
	'EMPTY_FIELD_NAME',
	'FIELD_TOO_LONG',
	'TOO_MANY_FIELDS',
	'INVALID_EXPIRY',
	'INVALID_USES',
	'UPLOAD_INTERRUPTED',
	'INVALID_ACCESS_KEY',
	'INVALID_CLIENT_ADDRESS'
] as const;

/** The answers every passphrase lookup shares, whichever way the passphrase arrives. */
const LOOKUP_SHARED: Record<string, ResponseObject | Ref> = {
	'403': ref('responses', 'CrossOriginForbidden'),
	'421': ref('responses', 'MisdirectedRequest'),
	'404': errorResponse(
		'No drop has this passphrase (or its tombstone has lapsed too). Counts as a failed lookup for the client address; `DOWNLOAD_FAIL_LIMIT` of them block it.',
		['UNKNOWN_PASSPHRASE']
	),
	'429': errorResponse(
		'This client address is blocked after too many unknown passphrases (`TOO_MANY_FAILED_LOOKUPS`, on every lookup route for `DOWNLOAD_BLOCK_WINDOW` seconds), or made too many lookups (`RATE_LIMITED`: `LOOKUP_RATE_LIMIT`) or sent too many malformed passphrases (`RATE_LIMITED`, 30 per 10 minutes).',
		['TOO_MANY_FAILED_LOOKUPS', 'RATE_LIMITED'],
		REFUSAL_HEADERS
	),
	'500': ref('responses', 'InternalError'),
	'503': ref('responses', 'StoreUnavailable')
};

/** 400 for a passphrase from the path: only the word check (or the proxy's address) can fail. */
const LOOKUP_400_PATH: ResponseObject = jsonResponse(
	'The passphrase is malformed: empty, the wrong number of words, or words that are not in the list (each named in `unknown_words` with suggestions). Costs no scrypt and is not a failed lookup, but is rate-limited on its own. Behind a proxy, `INVALID_CLIENT_ADDRESS` when `ADDRESS_HEADER` is missing or not an address.',
	{ oneOf: [schema('InvalidPassphraseError'), errorBody(['INVALID_CLIENT_ADDRESS'])] }
);

/** The POST forms read a small body first; these are its own refusals. */
const LOOKUP_BODY_ANSWERS: Record<string, ResponseObject | Ref> = {
	'400': jsonResponse(
		'The body names no passphrase or cannot be read (`BAD_REQUEST`), the passphrase is malformed (`INVALID_PASSPHRASE`, with `unknown_words`), or the access key is not 43 characters of base64url (`INVALID_ACCESS_KEY`).',
		{
			oneOf: [
				errorBody(['BAD_REQUEST', 'INVALID_ACCESS_KEY', 'INVALID_CLIENT_ADDRESS']),
				schema('InvalidPassphraseError')
			]
		}
	),
	'403': ref('responses', 'CrossOriginForbidden'),
	'413': errorResponse('The body is larger than 4,096 bytes.', ['BODY_TOO_LARGE']),
	'415': errorResponse(
		'The body is neither `application/x-www-form-urlencoded` nor `application/json`.',
		['UNSUPPORTED_MEDIA_TYPE']
	)
};

const PASSPHRASE_BODY: RequestBodyObject = {
	description:
		'The passphrase, as typed or pasted: case, spaces and punctuation between the words do not matter; or its `access_key` (what the pages send: the passphrase never leaves the browser, and the server runs no scrypt). At most 4,096 bytes. A field named `key` is accepted in place of `passphrase`. A body without a Content-Type is read as a form. With an `X-Access-Key` header the body is not read.',
	required: false,
	content: {
		'application/x-www-form-urlencoded': { schema: schema('PassphraseBody') },
		'application/json': { schema: schema('PassphraseBody') }
	}
};

// ------------------------------------------------------------------------------ lookups

const DOWNLOAD_200: ResponseObject = {
	description:
		'The file, decrypted while it streams. One use is taken before the first byte is sent, so an interrupted download still counts. Should decryption or the final SHA-256 check fail, the transfer is broken off (the client never receives wrong bytes). `Content-Type` is the type detected from the bytes at upload, never the one the sender claimed.',
	headers: {
		...REQUEST_ID,
		'Content-Disposition': {
			description:
				'Always an attachment, with an ASCII `filename` and the UTF-8 `filename*` of RFC 6266 (the sanitised name given at upload).',
			required: true,
			schema: { type: 'string', pattern: '^attachment;' }
		},
		'Content-Length': {
			description: 'The size of the plaintext in bytes.',
			required: true,
			schema: { type: 'integer', minimum: 0 }
		},
		'X-SHA256': {
			description:
				'SHA-256 of the plaintext (hex), recorded at upload; check it after downloading.',
			required: true,
			schema: schema('Sha256')
		},
		'X-Remaining-Uses': {
			description: 'Downloads left after this one; 0 means this was the last and the drop is gone.',
			required: true,
			schema: { type: 'integer', minimum: 0, maximum: 4 }
		},
		'Content-Security-Policy': {
			description: 'Should a browser render the file anyway: no scripts, no plugins, no origin.',
			required: true,
			schema: { const: "default-src 'none'; sandbox" }
		},
		'X-Content-Type-Options': {
			description: 'Never sniffed.',
			required: true,
			schema: { const: 'nosniff' }
		}
	},
	content: { '*/*': {} }
};

const DOWNLOAD_410: ResponseObject = errorResponse(
	'The drop is gone: downloaded as many times as allowed (`ALREADY_DOWNLOADED`), expired (`EXPIRED`), or its file is no longer on this server (`FILE_MISSING`). The first two are known from a tombstone kept until one hour after the original expiry.',
	['ALREADY_DOWNLOADED', 'EXPIRED', 'FILE_MISSING']
);

const DOWNLOAD_500: ResponseObject = {
	description:
		'The stored metadata failed authentication (`INTEGRITY_CHECK_FAILED`; the use is already spent), or an unexpected error (`INTERNAL_ERROR`).',
	headers: { ...REQUEST_ID },
	content: {
		'application/json': {
			schema: { oneOf: [errorBody(['INTEGRITY_CHECK_FAILED']), schema('InternalError')] }
		}
	}
};

function downloadOperation(source: 'path' | 'body'): OperationObject {
	const byPath = source === 'path';
	return {
		operationId: byPath ? 'downloadByPath' : 'downloadByBody',
		summary: byPath
			? 'Download the file (passphrase in the path)'
			: 'Download the file (passphrase in the body)',
		description: byPath
			? "The seed service's download link, for `curl -OJ`. Consumes one use. `HEAD` is refused (405) so that it consumes nothing. Prefer `POST /download` where a URL may be logged."
			: 'The same download with the passphrase in a form or JSON body, so it never sits in a URL, a proxy log or the browser history. Consumes one use.',
		tags: ['drops'],
		...(byPath ? { parameters: [ref('parameters', 'key')] } : { requestBody: PASSPHRASE_BODY }),
		responses: {
			'200': DOWNLOAD_200,
			...(byPath ? { '400': LOOKUP_400_PATH } : LOOKUP_BODY_ANSWERS),
			'410': DOWNLOAD_410,
			...LOOKUP_SHARED,
			'500': DOWNLOAD_500
		}
	};
}

function statusOperation(source: 'path' | 'body'): OperationObject {
	const byPath = source === 'path';
	return {
		operationId: byPath ? 'statusByPath' : 'statusByBody',
		summary: byPath
			? 'What is waiting under a passphrase (in the path)'
			: 'What is waiting under a passphrase (in the body)',
		description:
			'Consumes nothing. A drop that was used up or has expired answers 200 with `status` `burned` or `expired` (from its tombstone, kept until one hour after the original expiry); after that the passphrase is unknown (404).' +
			(byPath ? '' : ' The passphrase travels in the body, so it never sits in a URL.'),
		tags: ['drops'],
		...(byPath ? { parameters: [ref('parameters', 'key')] } : { requestBody: PASSPHRASE_BODY }),
		responses: {
			'200': jsonResponse('What is known about the drop.', schema('DropStatus')),
			...(byPath ? { '400': LOOKUP_400_PATH } : LOOKUP_BODY_ANSWERS),
			...LOOKUP_SHARED
		}
	};
}

/**
 * HEAD on a link that consumes something. Kit would run GET for it, so `curl -I` or a link
 * checker would burn the drop; the route refuses it instead, consuming nothing.
 */
function refusedHead(operationId: string, what: string): OperationObject {
	return {
		operationId,
		summary: `HEAD is refused (it would consume ${what})`,
		description: `Answers 405 with \`Allow: GET\` and consumes nothing, so \`curl -I\` and link checkers cannot burn ${what}. Still subject to the brute-force block.`,
		tags: ['drops'],
		parameters: [ref('parameters', 'key')],
		responses: {
			'405': {
				description:
					'Always, unless the address is blocked or the store is down. `error_code`: `METHOD_NOT_ALLOWED` (no body is sent, as for any HEAD).',
				headers: {
					...REQUEST_ID,
					Allow: { description: 'The method to use.', required: true, schema: { const: 'GET' } }
				},
				content: { 'application/json': { schema: errorBody(['METHOD_NOT_ALLOWED']) } }
			},
			'429': LOOKUP_SHARED['429']!,
			'500': ref('responses', 'InternalError'),
			'503': ref('responses', 'StoreUnavailable')
		}
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
export const OPENAPI_DOCUMENT: Readonly<Omit<OpenApiDocument, 'servers'>> = {
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
					'Streams the file in, encrypting it as it arrives (`curl -F file=@secret.pdf -F expiry=10 -F uses=1`). Fields may come before or after the file; fields other than `file`, `expiry` and `uses` are ignored. The type is detected from the bytes. Limited per client address by `UPLOAD_RATE_LIMIT`. Nothing is left on disk when an upload fails.',
				tags: ['drops'],
				parameters: [
					{
						name: 'X-Access-Key',
						in: 'header',
						required: false,
						description:
							'The access key of a passphrase the sender drew itself (the send page does): the server then answers without `key` and links, which it cannot know, and 409 `DROP_EXISTS` when a drop already holds that access key (draw again). Such uploads count against `UPLOAD_RATE_LIMIT` like any other.',
						schema: schema('AccessKey')
					}
				],
				requestBody: {
					description: 'One file in the field `file`, and optional `expiry` and `uses`.',
					required: true,
					content: { 'multipart/form-data': { schema: schema('UploadForm') } }
				},
				responses: {
					'201': jsonResponse(
						'Stored. `key` is the passphrase: it is shown this once and cannot be recovered.',
						schema('CreatedDrop'),
						RATE_LIMIT_HEADERS
					),
					'400': errorResponse('The form is not what the server expects.', UPLOAD_400_CODES),
					'403': ref('responses', 'CrossOriginForbidden'),
					'421': ref('responses', 'MisdirectedRequest'),
					'409': errorResponse(
						'With `X-Access-Key`: a drop (live, or its tombstone) or an upload in progress already holds that access key. Draw another passphrase and send again.',
						['DROP_EXISTS']
					),
					'413': errorResponse(
						'The file is larger than `MAX_FILE_SIZE` (refused from the declared length when it is known, otherwise the moment the limit is passed).',
						['FILE_TOO_LARGE']
					),
					'415': errorResponse('`ALLOWED_MIME_TYPES` is set and the detected type is not in it.', [
						'UNSUPPORTED_FILE_TYPE'
					]),
					'429': errorResponse(
						'Too many uploads from this client address (`UPLOAD_RATE_LIMIT`).',
						['RATE_LIMITED'],
						REFUSAL_HEADERS
					),
					'500': ref('responses', 'InternalError'),
					'503': ref('responses', 'StoreUnavailable'),
					'507': errorResponse(
						'Free disk space is under `MIN_FREE_DISK_MB` (`INSUFFICIENT_STORAGE`, before reading), or the disk filled up during the upload (`DISK_FULL`). Nothing was kept.',
						['INSUFFICIENT_STORAGE', 'DISK_FULL']
					)
				}
			}
		},
		'/download/{key}': {
			get: downloadOperation('path'),
			head: refusedHead('downloadHead', 'a download')
		},
		'/download': { post: downloadOperation('body') },
		'/preview/{key}': {
			get: {
				operationId: 'preview',
				summary: 'See the metadata once',
				description:
					"The seed service's one-time preview: only the first call (of any number racing) answers 200; later ones answer 410 `PREVIEW_ALREADY_SEEN`. Consumes no download. `HEAD` is refused (405) so that it cannot use up the preview.",
				tags: ['drops'],
				parameters: [ref('parameters', 'key')],
				responses: {
					'200': jsonResponse('The metadata of the drop.', schema('DropPreview')),
					'400': LOOKUP_400_PATH,
					'410': errorResponse(
						'The preview was already seen (the file can still be downloaded), or the drop is used up or expired.',
						['PREVIEW_ALREADY_SEEN', 'ALREADY_DOWNLOADED', 'EXPIRED']
					),
					...LOOKUP_SHARED
				}
			},
			head: refusedHead('previewHead', 'the preview')
		},
		'/status/{key}': { get: statusOperation('path') },
		'/status': { post: statusOperation('body') },
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
						{
							...schema('HealthReport'),
							type: 'object',
							properties: { status: { const: 'healthy' } }
						},
						RATE_LIMIT_HEADERS
					),
					'429': errorResponse(
						'Too many health checks from this client address.',
						['RATE_LIMITED'],
						REFUSAL_HEADERS
					),
					'500': ref('responses', 'InternalError'),
					'503': jsonResponse(
						'At least one service is not usable; `services` says which.',
						{
							...schema('HealthReport'),
							type: 'object',
							properties: { status: { const: 'degraded' } }
						},
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
					'500': ref('responses', 'InternalError')
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
					'200': jsonResponse('The words, in list order.', {
						type: 'array',
						items: { type: 'string', pattern: '^[a-z]+$' },
						minItems: 1
					}),
					'500': ref('responses', 'InternalError'),
					'503': errorResponse('The word list is not loaded yet.', ['WORDLIST_UNAVAILABLE'])
				}
			}
		}
	},
	components: {
		parameters: {
			key: {
				name: 'key',
				in: 'path',
				required: true,
				description:
					'The passphrase, words joined by hyphens (case and separators do not matter). It ends up in URLs, and so possibly in proxy logs and browser history: the POST forms (`POST /download`, `POST /status`) exist so that it never needs to sit in a URL.',
				schema: { type: 'string', minLength: 1, examples: ['orbit-velvet-gravy-amulet'] }
			}
		},
		headers: {
			'X-Request-ID': {
				description: 'A UUID v4 for this request, also in its log line. Sent on every response.',
				required: true,
				schema: { type: 'string', format: 'uuid' }
			},
			'Retry-After': {
				description: 'Seconds until the client may try again.',
				required: true,
				schema: { type: 'integer', minimum: 1 }
			},
			'RateLimit-Limit': {
				description: 'Requests (or failures) allowed in the window.',
				required: true,
				schema: { type: 'integer', minimum: 1 }
			},
			'RateLimit-Remaining': {
				description: 'What is left of the limit in the current window.',
				required: true,
				schema: { type: 'integer', minimum: 0 }
			},
			'RateLimit-Reset': {
				description: 'Seconds until the window resets.',
				required: true,
				schema: { type: 'integer', minimum: 0 }
			}
		},
		responses: {
			CrossOriginForbidden: errorResponse(
				"A POST whose `Origin` is neither this site nor listed in `CORS_ORIGINS`, or a lookup that another site embedded (`Sec-Fetch-Site: cross-site` with a `Sec-Fetch-Mode` other than `navigate`: an image, a script, a fetch), refused before any work so that a hostile page cannot spend its visitors' guesses. Clients that send no `Origin` (curl, scripts) are not affected.",
				['CROSS_ORIGIN_FORBIDDEN']
			),
			StoreUnavailable: errorResponse(
				'The metadata store (Redis) is unreachable; limits fail closed, so nothing is served unchecked (`STORE_UNAVAILABLE`). Or, for a request that brings a passphrase, `KDF_QUEUE_LIMIT` requests already wait for a scrypt, and this one is answered at once rather than left to wait (`SERVER_BUSY`, with `Retry-After`); requests by access key never wait for scrypt.',
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
				'`ORIGIN` is set and the `Host` of the request is neither its host nor a loopback address.',
				['MISDIRECTED_REQUEST']
			),
			InternalError: {
				description:
					'An unexpected error, logged with the request id. JSON for API clients; browsers that ask for HTML get an error page.',
				headers: { ...REQUEST_ID },
				content: {
					'application/json': { schema: schema('InternalError') },
					'text/html': { schema: { type: 'string' } }
				}
			},
			NotFound: errorResponse(
				'Any path not described here (browsers asking for HTML get an error page instead).',
				['NOT_FOUND']
			),
			MethodNotAllowed: {
				description:
					'Any method a path does not list, in the JSON error shape (`METHOD_NOT_ALLOWED`); `HEAD` is answered wherever `GET` is, except where it would consume something. The `Allow` header lists the methods that work.',
				headers: {
					...REQUEST_ID,
					Allow: {
						description: 'The methods this path answers, e.g. `POST`.',
						required: true,
						schema: { type: 'string' }
					}
				},
				content: { 'application/json': { schema: errorBody(['METHOD_NOT_ALLOWED']) } }
			}
		},
		schemas: {
			Error: {
				type: 'object',
				description: 'What every expected failure answers.',
				required: ['error_code', 'detail'],
				properties: {
					error_code: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
					detail: { type: 'string', description: 'A sentence for a human.' }
				},
				additionalProperties: false
			},
			InvalidPassphraseError: {
				type: 'object',
				required: ['error_code', 'detail', 'unknown_words'],
				properties: {
					error_code: { const: 'INVALID_PASSPHRASE' },
					detail: { type: 'string' },
					unknown_words: {
						type: 'array',
						description:
							'The words not in the list, with the closest ones that are. Empty when the problem is the number of words or an empty passphrase.',
						items: {
							type: 'object',
							required: ['position', 'word', 'suggestions'],
							properties: {
								position: { type: 'integer', minimum: 0, description: 'Zero-based.' },
								word: { type: 'string' },
								suggestions: { type: 'array', items: { type: 'string' } }
							},
							additionalProperties: false
						}
					}
				},
				additionalProperties: false
			},
			InternalError: {
				type: 'object',
				required: ['message', 'error_code', 'detail', 'request_id'],
				properties: {
					message: { type: 'string' },
					error_code: { const: 'INTERNAL_ERROR' },
					detail: { type: 'string' },
					request_id: { type: 'string' }
				},
				additionalProperties: false
			},
			Passphrase: {
				type: 'string',
				description: 'Diceware words joined by hyphens (`PASSPHRASE_WORDS`, default 4).',
				pattern: '^[a-z]+(-[a-z]+){2,9}$',
				examples: ['orbit-velvet-gravy-amulet']
			},
			Sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
			Timestamp: { type: 'string', format: 'date-time' },
			MimeType: {
				type: 'string',
				description: 'Detected from the bytes; `application/octet-stream` when unknown.',
				examples: ['application/pdf']
			},
			Filename: {
				type: 'string',
				description:
					"The sender's file name, sanitised: no path, no control or bidi characters, at most 255 characters."
			},
			UploadForm: {
				type: 'object',
				required: ['file'],
				properties: {
					file: {
						type: 'string',
						contentMediaType: 'application/octet-stream',
						description:
							'Sent with its file name (`-F file=@name`). The Content-Type the client gives is ignored.'
					},
					expiry: {
						type: 'integer',
						minimum: 1,
						maximum: 60,
						default: 10,
						description: 'Minutes until the drop expires.'
					},
					uses: {
						type: 'integer',
						minimum: 1,
						maximum: 5,
						default: 1,
						description: 'How many downloads are allowed.'
					}
				}
			},
			PassphraseBody: {
				type: 'object',
				properties: {
					passphrase: { type: 'string', examples: ['orbit-velvet-gravy-amulet'] },
					key: { type: 'string', description: 'Accepted in place of `passphrase`.' },
					access_key: schema('AccessKey')
				},
				anyOf: [{ required: ['passphrase'] }, { required: ['key'] }, { required: ['access_key'] }]
			},
			AccessKey: {
				type: 'string',
				description:
					'base64url (no padding) of scrypt(normalised passphrase, "raven-zero/v2", N=2^14, r=8, p=1, 32 bytes). A secret equal to the passphrase.',
				pattern: '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$'
			},
			CreatedDrop: {
				type: 'object',
				description:
					'`key`, `preview_url` and `download_url` are present when the server drew the passphrase; an upload with `X-Access-Key` gets none of them.',
				required: [
					'expiry',
					'uses',
					'filename',
					'size',
					'mime_type',
					'created_at',
					'expires_at',
					'sha256'
				],
				properties: {
					key: { ...schema('Passphrase'), description: 'The passphrase.' },
					preview_url: {
						type: 'string',
						format: 'uri',
						description: 'Built from `ORIGIN` when set.'
					},
					download_url: { type: 'string', format: 'uri' },
					expiry: { type: 'integer', minimum: 1, maximum: 60, description: 'Minutes.' },
					uses: { type: 'integer', minimum: 1, maximum: 5 },
					filename: schema('Filename'),
					size: { type: 'integer', minimum: 0, description: 'Bytes.' },
					mime_type: schema('MimeType'),
					created_at: schema('Timestamp'),
					expires_at: schema('Timestamp'),
					sha256: schema('Sha256')
				},
				additionalProperties: false
			},
			DropPreview: {
				type: 'object',
				required: [
					'filename',
					'size',
					'mime_type',
					'expiry',
					'uses',
					'minutes_left',
					'expires_at',
					'download_url',
					'curl_example',
					'created_at',
					'sha256'
				],
				properties: {
					filename: schema('Filename'),
					size: { type: 'integer', minimum: 0 },
					mime_type: schema('MimeType'),
					expiry: { type: 'integer', minimum: 1, maximum: 60, description: 'As uploaded.' },
					uses: { type: 'integer', minimum: 1, maximum: 5, description: 'Downloads left.' },
					minutes_left: { type: 'integer', minimum: 0 },
					expires_at: schema('Timestamp'),
					download_url: { type: 'string', format: 'uri' },
					curl_example: { type: 'string', examples: ['curl -OJ https://host/download/KEY'] },
					created_at: schema('Timestamp'),
					sha256: schema('Sha256')
				},
				additionalProperties: false
			},
			DropStatus: {
				type: 'object',
				description:
					'`expires_at`, `filename`, `size`, `mime_type` and `sha256` are null unless `status` is `active`.',
				required: [
					'key',
					'status',
					'remaining_uses',
					'expires_at',
					'is_accessible',
					'filename',
					'size',
					'mime_type',
					'sha256'
				],
				properties: {
					key: {
						oneOf: [schema('Passphrase'), { type: 'null' }],
						description: 'The passphrase, normalised; null when asked by access key.'
					},
					status: { enum: ['active', 'expired', 'burned'] },
					remaining_uses: { type: 'integer', minimum: 0, maximum: 5 },
					expires_at: { oneOf: [schema('Timestamp'), { type: 'null' }] },
					is_accessible: { type: 'boolean', description: 'True exactly when `active`.' },
					filename: { oneOf: [schema('Filename'), { type: 'null' }] },
					size: { oneOf: [{ type: 'integer', minimum: 0 }, { type: 'null' }] },
					mime_type: { oneOf: [schema('MimeType'), { type: 'null' }] },
					sha256: {
						oneOf: [schema('Sha256'), { type: 'null' }],
						description: 'SHA-256 of the file (hex), to compare after downloading.'
					}
				},
				additionalProperties: false
			},
			ServiceState: { enum: ['online', 'offline'] },
			HealthReport: {
				type: 'object',
				required: ['status', 'version', 'timestamp', 'services', 'uptime_seconds', 'started_at'],
				properties: {
					status: { enum: ['healthy', 'degraded'] },
					version: { type: 'string' },
					timestamp: schema('Timestamp'),
					services: {
						type: 'object',
						required: ['redis', 'storage', 'scheduler', 'diceware'],
						properties: {
							redis: {
								enum: ['online', 'offline', 'embedded'],
								description: '`embedded`: the in-process store (no REDIS_URL).'
							},
							storage: schema('ServiceState'),
							scheduler: schema('ServiceState'),
							diceware: schema('ServiceState')
						},
						additionalProperties: false
					},
					uptime_seconds: { type: 'integer', minimum: 0 },
					started_at: schema('Timestamp')
				},
				additionalProperties: false
			}
		}
	}
};

/** The document as served: `servers` is the public origin it was asked for from. */
export function documentFor(origin: string): OpenApiDocument {
	return { ...OPENAPI_DOCUMENT, servers: [{ url: origin, description: 'This server' }] };
}
