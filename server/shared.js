// What both the bundle (src/) and the entry point (server/index.js) need: the headers every
// response carries, the process settings, and the configuration table with its parser.
// Plain JavaScript, because the entry point imports it directly, before build/handler.js.
import path from 'node:path';
import process from 'node:process';
import * as v from 'valibot';

// The headers every response carries: Kit's responses (src/lib/server/http/security-headers.ts)
// and the static assets that adapter-node serves before any hook runs (server/index.js).
// Cross-Origin-Opener-Policy: a page of another site that opened one of ours (window.open) keeps
// no handle on it, so it cannot navigate that window on from one lookup to the next (ten
// `w.location = '/download/<guess>'` from a single click would block the visitor). Nothing of
// ours needs an opener: our pages never read window.opener nor open windows.

/** @type {Readonly<Record<string, string>>} */
export const SECURITY_HEADERS = Object.freeze({
	'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
	Pragma: 'no-cache',
	Expires: '0',
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'X-XSS-Protection': '1; mode=block',
	'Referrer-Policy': 'no-referrer',
	'Cross-Origin-Opener-Policy': 'same-origin'
});

/** The request id header, set on every response and carried in the access log line. */
export const REQUEST_ID_HEADER = 'X-Request-ID';

/** Where the bundle publishes what the entry point needs from it (see src/lib/server/http/edge.ts). */
export const EDGE_KEY = Symbol.for('raven-zero.edge');

/**
 * Upload bodies skip Kit's web stream (issue #11): for a multipart POST to one of these paths,
 * server/index.js keeps the body out of the Request it hands Kit and marks the Node request
 * with this key (its value: the declared length, if any). The upload route and the send
 * page's action then read the Node stream itself (`event.platform.req`), through every hook as
 * before. A path is a URL path as Kit matches it: both spellings of `/upload` (its
 * trailingSlash is 'ignore') and `/`, the send page's action.
 */
/** @type {unique symbol} */
export const UPLOAD_BODY_KEY = Symbol.for('raven-zero.upload-body');
export const UPLOAD_BODY_PATHS = Object.freeze(['/', '/upload', '/upload/']);

/**
 * The largest `contents` field an upload may carry (an archive's list of names): the same as
 * CONTENTS.maxBytes in src/lib/drop-bounds.ts, which tests/unit/config.test.ts keeps equal.
 */
export const CONTENTS_FIELD_BYTES = 64 * 1024;

/**
 * What a multipart body may carry besides the file itself: the largest `contents` field, and
 * 64 KiB for everything else (boundaries, part headers with the file name, the `kind`,
 * `expiry` and `uses` fields, at most 1 KiB each). BODY_SIZE_LIMIT must leave this much room
 * above MAX_FILE_SIZE, so that the byte-exact MAX_FILE_SIZE check, not a body cap, refuses
 * uploads: a zip of exactly MAX_FILE_SIZE with the longest list of names is accepted.
 */
export const MULTIPART_HEADROOM_BYTES = CONTENTS_FIELD_BYTES + 64 * 1024;

/**
 * How the server's Node process is started (`npm start`, the Dockerfile, the tests and the
 * benchmark all use these; tests/unit/runtime-settings.test.ts keeps the first two in step).
 *
 * `--initial-old-space-size=32`: with V8's default the old generation starts so small that
 * every few MiB of streamed buffers set off a full mark-compact; over 60 uploads of 10 MiB,
 * 95 full collections instead of 1, and 30 % more server CPU per upload (README, Performance).
 * It cannot be set from NODE_OPTIONS or at run time, so it is a command-line flag.
 */
export const NODE_FLAGS = Object.freeze(['--initial-old-space-size=32']);

/**
 * `MALLOC_ARENA_MAX=2`: glibc otherwise keeps one arena per thread, and the memory of scrypt
 * on libuv's threads stays mapped in each of them after use.
 */
export const SERVER_ENV = Object.freeze({ MALLOC_ARENA_MAX: '2' });

// ---- Configuration ------------------------------------------------------------------------
//
// Every environment variable Raven Zero reads, declared once in SETTINGS below: its Config
// field, its default (as it would be written in the environment), what it means (README.md's
// configuration table says the same, checked by tests/unit/config.test.ts) and a valibot
// schema from the text to the value. parseConfig() is the only parser: src/lib/server/config.ts
// calls it for the bundle, server/index.js calls it before it imports build/handler.js (which
// reads BODY_SIZE_LIMIT and PROTOCOL_HEADER from process.env as it loads).
//
// Every schema's messages are the "should be ..." part of the one error line, modelled on
// adapter-node's src/env.js: `Invalid value for X: "…" (should be …)`.

/** A mistake in the environment or in a file the service needs at start: printed, then exit 1. */
export class StartupError extends Error {
	name = 'StartupError';
}

export const LOG_LEVELS = /** @type {const} */ ([
	'fatal',
	'error',
	'warn',
	'info',
	'debug',
	'trace',
	'silent'
]);

const RATE = /^(\d+)\s*\/\s*(second|minute|hour|day)$/i;
/** @type {Record<string, number>} */
const RATE_UNITS = { second: 1, minute: 60, hour: 3600, day: 86_400 };
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/;
/** adapter-node's BODY_SIZE_LIMIT syntax: a byte count with an optional K, M or G (or Infinity). */
const BYTES = /^(\d+)([KMG])?$/i;
/** @type {Record<string, number>} */
const BYTE_UNITS = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
const LIST_EXPECTED = 'a comma-separated list or a JSON array of strings';

/**
 * @param {number} min
 * @param {number} max
 */
const wholeNumber = (min, max) =>
	v.message(
		v.pipe(
			v.string(),
			v.regex(/^\d+$/),
			v.transform(Number),
			v.safeInteger(),
			v.minValue(min),
			v.maxValue(max)
		),
		`a whole number from ${min} to ${max}`
	);

const rateLimit = v.message(
	v.pipe(
		v.string(),
		v.regex(RATE),
		v.transform((value) => {
			const [, points = '', unit = ''] = RATE.exec(value) ?? [];
			const name = unit.toLowerCase();
			return {
				points: Number(points),
				durationSeconds: RATE_UNITS[name] ?? 0,
				text: `${points}/${name}`
			};
		}),
		v.check(({ points }) => points >= 1 && Number.isSafeInteger(points))
	),
	'N/second, N/minute, N/hour or N/day with N at least 1'
);

/**
 * A comma-separated list or a JSON array of strings (the seed accepted both), trimmed, without
 * empty items; undefined when the JSON is not an array of strings.
 * @param {string} value
 * @returns {string[] | undefined}
 */
function splitList(value) {
	/** @type {unknown} */
	let items = value.split(',');
	if (value.startsWith('[')) {
		try {
			items = JSON.parse(value);
		} catch {
			return undefined;
		}
	}
	if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) return undefined;
	return items.map((item) => item.trim()).filter(Boolean);
}

const list = v.pipe(
	v.undefinedable(v.string(), ''),
	v.transform(splitList),
	v.array(v.string(), LIST_EXPECTED)
);

const mimeTypes = v.pipe(
	list,
	v.transform((types) => types.map((type) => type.toLowerCase())),
	v.check(
		(types) => types.every((type) => MIME_TYPE.test(type)),
		'MIME types such as image/png or image/*, comma-separated'
	),
	v.transform((types) => Object.freeze(types))
);

/** @param {string} value */
function isOrigin(value) {
	if (value === '*') return true;
	try {
		const url = new URL(value);
		return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
	} catch {
		return false;
	}
}

const origins = v.pipe(
	list,
	v.check(
		(values) => values.every(isOrigin),
		'origins such as https://example.org, comma-separated, or *'
	),
	v.transform((values) => Object.freeze(values))
);

/**
 * @param {string[]} protocols
 * @param {string} expected
 */
const optionalUrl = (protocols, expected) =>
	v.undefinedable(
		v.message(
			v.pipe(
				v.string(),
				v.check((value) => {
					try {
						return protocols.includes(new URL(value).protocol);
					} catch {
						return false;
					}
				})
			),
			expected
		)
	);

/** `host:port` (an IPv6 host in brackets), as the Redis Sentinel and Cluster settings list them. */
const HOST_PORT = /^(?:\[([0-9a-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/i;

/** A list of `host:port`, parsed into `{ host, port }`; empty when unset. */
const hostPorts = v.pipe(
	list,
	v.check(
		(items) =>
			items.every((item) => HOST_PORT.test(item) && Number(HOST_PORT.exec(item)?.[3]) <= 65535),
		'host:port items, comma-separated, such as 10.0.0.5:26379,10.0.0.6:26379'
	),
	v.transform((items) =>
		Object.freeze(
			items.map((item) => {
				const [, ipv6, host = ipv6 ?? '', port] = HOST_PORT.exec(item) ?? [];
				return Object.freeze({ host, port: Number(port) });
			})
		)
	)
);

// Not the `bytes` package: it reads 512K as 512 bytes and refuses Infinity, both of which
// adapter-node (and so this setting) accepts.
const bytes = v.message(
	v.pipe(
		v.string(),
		v.check((value) => value === 'Infinity' || BYTES.test(value)),
		v.transform((value) => {
			const [, count = '', unit = ''] = BYTES.exec(value) ?? [];
			return value === 'Infinity'
				? Infinity
				: Number(count) * (BYTE_UNITS[unit.toUpperCase()] ?? 1);
		})
	),
	'a byte count such as 12000000, 512K, 20M or Infinity'
);
const byteCount = v.undefinedable(bytes);

const BYTE_RATE = /^(\d+)([KMG])?\s*\/\s*(second|minute|hour|day)$/i;

/** Bytes per window, as a RateLimit whose points are bytes: `256M/hour`. */
const byteRate = v.message(
	v.pipe(
		v.string(),
		v.regex(BYTE_RATE),
		v.transform((value) => {
			const [, count = '', unit = '', window = ''] = BYTE_RATE.exec(value) ?? [];
			const name = window.toLowerCase();
			return {
				points: Number(count) * (BYTE_UNITS[unit.toUpperCase()] ?? 1),
				durationSeconds: RATE_UNITS[name] ?? 0,
				text: `${count}${unit.toUpperCase()}/${name}`
			};
		}),
		v.check(({ points }) => points >= 1 && Number.isSafeInteger(points))
	),
	'bytes per second, minute, hour or day, such as 256M/hour'
);

/** `true` or `false` (also `1`/`0`, `yes`/`no`), any case. */
const flag = v.message(
	v.pipe(
		v.string(),
		v.toLowerCase(),
		v.picklist(['true', 'false', '1', '0', 'yes', 'no']),
		v.transform((value) => ['true', '1', 'yes'].includes(value))
	),
	'true or false'
);

const text = v.string();
const optionalText = v.undefinedable(v.string());
const PROXY_HEADERS = "adapter-node's proxy headers, as documented there";

/**
 * One environment variable: `env` is its name, `default` the value used when it is unset or
 * empty (written as in the environment; none: the field is undefined unless derived below),
 * `documentedDefault` the README's wording where the default is not a literal value, `secret`
 * keeps its value out of error lines, and `meaning` is README's description, word for word.
 * @typedef {{
 *   env: string,
 *   default?: string,
 *   documentedDefault?: string,
 *   secret?: boolean,
 *   meaning: string,
 *   schema: v.GenericSchema<string | undefined, unknown>
 * }} Setting
 */

/** Every variable, in README's order; the keys are the Config fields. */
export const SETTINGS = /** @satisfies {Record<string, Setting>} */ ({
	redisUrl: {
		env: 'REDIS_URL',
		schema: optionalUrl(
			['redis:', 'rediss:'],
			'a redis:// or rediss:// URL, or unset for the in-process store'
		),
		meaning:
			'`redis://` or `rediss://` URL of Redis or Valkey. Unset: the in-process store (one instance, nothing survives a restart; logged as a warning)'
	},
	redisSentinels: {
		env: 'REDIS_SENTINELS',
		schema: hostPorts,
		meaning:
			'instead of `REDIS_URL`: the Redis Sentinels, as `host:port` comma-separated; the app asks them for the primary of `REDIS_SENTINEL_NAME` and follows a failover by itself. Plain TCP only, no TLS (README, Scaling out)'
	},
	redisSentinelName: {
		env: 'REDIS_SENTINEL_NAME',
		schema: optionalText,
		meaning: 'the master group name the sentinels monitor (required with `REDIS_SENTINELS`)'
	},
	redisClusterNodes: {
		env: 'REDIS_CLUSTER_NODES',
		schema: hostPorts,
		meaning:
			'instead of `REDIS_URL`: some nodes of a Redis Cluster, as `host:port` comma-separated (the app discovers the rest). Plain TCP only, no TLS (README, Scaling out)'
	},
	redisPassword: {
		env: 'REDIS_PASSWORD',
		secret: true,
		schema: optionalText,
		meaning:
			'the password of the Redis nodes with `REDIS_SENTINELS` or `REDIS_CLUSTER_NODES` (`requirepass`; the sentinels themselves are asked without one). With `REDIS_URL`, the password goes in the URL'
	},
	storagePath: {
		env: 'STORAGE_PATH',
		default: './storage/uploads',
		schema: text,
		meaning: 'where encrypted drops are kept'
	},
	tempPath: {
		env: 'TEMP_PATH',
		default: './storage/temp',
		schema: text,
		meaning:
			'where uploads are written until complete (same file system as `STORAGE_PATH`, so the final rename is atomic)'
	},
	storageBackend: {
		env: 'STORAGE_BACKEND',
		default: 'fs',
		schema: v.message(v.pipe(v.string(), v.toLowerCase(), v.picklist(['fs', 's3'])), 'fs or s3'),
		meaning:
			'where the encrypted files are kept: `fs`, the two folders above; `s3`, a bucket of an S3-compatible object store, set by the `S3_` variables below (see Scaling out)'
	},
	s3Endpoint: {
		env: 'S3_ENDPOINT',
		documentedDefault: "unset (AWS's for `S3_REGION`)",
		schema: optionalUrl(['http:', 'https:'], 'an http:// or https:// URL, or unset for AWS'),
		meaning:
			"with `s3`: the object store's URL, such as `http://garage:3900`. Credentials come from the standard AWS variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, or a profile or role)"
	},
	s3Bucket: {
		env: 'S3_BUCKET',
		schema: v.undefinedable(
			v.message(
				v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)),
				'a bucket name: 3-63 lower-case letters, digits, dots and hyphens'
			)
		),
		meaning: 'with `s3`: the bucket, which must exist (required with `s3`)'
	},
	s3Region: {
		env: 'S3_REGION',
		default: 'us-east-1',
		schema: text,
		meaning: "with `s3`: the bucket's region (what the request signatures name)"
	},
	s3Prefix: {
		env: 'S3_PREFIX',
		default: 'raven-zero/',
		schema: v.message(
			v.pipe(v.string(), v.maxLength(512), v.regex(/^[\x21-\x7e]+$/)),
			'printable characters without spaces, at most 512'
		),
		meaning:
			'with `s3`: where in the bucket the drops are (`<prefix><id>.rzf`). Keys outside it, and keys of any other form, are never listed nor removed'
	},
	s3ForcePathStyle: {
		env: 'S3_FORCE_PATH_STYLE',
		default: 'false',
		schema: flag,
		meaning:
			'with `s3`: `true` puts the bucket in the path (`https://host/bucket/key`), as most self-hosted stores want; `false` in the host name, as AWS does'
	},
	s3ApplyLifecycle: {
		env: 'S3_APPLY_LIFECYCLE',
		default: 'false',
		schema: flag,
		meaning:
			'with `s3`: `true` adds, at start-up, a lifecycle rule to the bucket that deletes every object under `S3_PREFIX` (ours or not: the prefix must be Raven Zero’s alone) and unfinished uploads after a day, a backstop for the sweeps (other rules of the bucket are kept; a store that refuses it is logged)'
	},
	s3Checksums: {
		env: 'S3_CHECKSUMS',
		default: 'when_required',
		schema: v.message(
			v.pipe(v.string(), v.toLowerCase(), v.picklist(['when_supported', 'when_required'])),
			'when_supported or when_required'
		),
		meaning:
			"with `s3`: the AWS SDK's CRC32 request checksums. `when_required`: only where S3 requires them (several S3-compatible stores refuse the others, and the file format already authenticates every byte); `when_supported`: on every request that can carry them, the SDK's own default"
	},
	maxFileSize: {
		env: 'MAX_FILE_SIZE',
		default: '10485760',
		schema: wholeNumber(1, Number.MAX_SAFE_INTEGER),
		meaning: 'largest file in bytes'
	},
	allowedMimeTypes: {
		env: 'ALLOWED_MIME_TYPES',
		documentedDefault: 'empty (all)',
		schema: mimeTypes,
		meaning:
			"comma list or JSON array of types, `image/*` wildcards allowed; matched against the type detected from the file's bytes"
	},
	uploadRateLimit: {
		env: 'UPLOAD_RATE_LIMIT',
		default: '30/hour',
		schema: rateLimit,
		meaning: 'uploads per client address: `N/second`, `N/minute`, `N/hour` or `N/day`'
	},
	uploadByteLimit: {
		env: 'UPLOAD_BYTE_LIMIT',
		default: '256M/hour',
		schema: byteRate,
		meaning:
			'bytes of files per client address (`K`, `M`, `G`; per `second`, `minute`, `hour` or `day`); past it uploads get 429 `UPLOAD_BUDGET_EXCEEDED`'
	},
	healthRateLimit: {
		env: 'HEALTH_RATE_LIMIT',
		default: '1/second',
		schema: rateLimit,
		meaning: 'health checks per client address'
	},
	lookupRateLimit: {
		env: 'LOOKUP_RATE_LIMIT',
		default: '120/minute',
		schema: rateLimit,
		meaning:
			'lookups (status, preview, download, the retrieval form) per client address, found or not; far above what people behind one NAT do'
	},
	downloadFailLimit: {
		env: 'DOWNLOAD_FAIL_LIMIT',
		default: '10',
		schema: wholeNumber(1, 1_000_000),
		meaning: 'unknown passphrases an address may try before it is blocked'
	},
	downloadBlockWindowSeconds: {
		env: 'DOWNLOAD_BLOCK_WINDOW',
		default: '1800',
		schema: wholeNumber(1, 31_536_000),
		meaning: 'seconds the failures are counted over, and how long a block lasts'
	},
	cleanupIntervalMinutes: {
		env: 'CLEANUP_INTERVAL_MINUTES',
		default: '10',
		schema: wholeNumber(1, 1440),
		meaning: 'how often the orphan sweep runs'
	},
	orphanAgeMinutes: {
		env: 'ORPHAN_AGE_MINUTES',
		default: '15',
		schema: wholeNumber(1, 10_080),
		meaning: 'temp parts and unknown files older than this are removed by the orphan sweep'
	},
	secureShredPasses: {
		env: 'SECURE_SHRED_PASSES',
		default: '1',
		schema: wholeNumber(0, 35),
		meaning: 'random overwrites before a file is unlinked (0-35)'
	},
	dicewareWordlistPath: {
		env: 'DICEWARE_WORDLIST_PATH',
		default: 'data/diceware_words.txt',
		schema: text,
		meaning: 'the word list (7,776 words, `11111<TAB>word` lines)'
	},
	passphraseWords: {
		env: 'PASSPHRASE_WORDS',
		default: '4',
		schema: wholeNumber(3, 10),
		meaning: 'words per passphrase (3-10)'
	},
	serverSecret: {
		env: 'SERVER_SECRET',
		secret: true,
		schema: v.undefinedable(
			v.message(v.pipe(v.string(), v.minLength(16)), 'at least 16 characters, or unset')
		),
		meaning:
			'optional pepper (16+ characters) mixed into the key derivation and the hashing of client addresses. With it, a copy of Redis and the disk cannot even be attacked by guessing without also stealing the secret. Changing it makes existing drops unreachable'
	},
	corsOrigins: {
		env: 'CORS_ORIGINS',
		documentedDefault: 'empty',
		schema: origins,
		meaning:
			'origins (comma list) whose web pages may call the API from a browser, or `*` (any page may read the answers, but lookups sent from other sites stay refused: only an origin named here may send them). Empty: none'
	},
	minFreeDiskMb: {
		env: 'MIN_FREE_DISK_MB',
		default: '100',
		schema: wholeNumber(0, 1_000_000_000),
		meaning:
			'uploads are refused (507) when the storage file system has less free (`fs` only: an object store does not tell)'
	},
	storageQuota: {
		env: 'STORAGE_QUOTA',
		default: '16G',
		schema: bytes,
		meaning:
			'bytes all stored drops and uploads in progress may take on disk together, as encrypted (`K`, `M`, `G`, or `Infinity`); past it uploads get 507 `STORAGE_QUOTA`. The default suits a 20 GiB disk (Security model, "Storage quotas")'
	},
	maxLiveDrops: {
		env: 'MAX_LIVE_DROPS',
		default: '10000',
		schema: wholeNumber(1, 100_000_000),
		meaning:
			'drops stored or being uploaded at once, across every instance; past it uploads get 507 `STORAGE_QUOTA`'
	},
	logPath: {
		env: 'LOG_PATH',
		default: './logs/raven_zero.log',
		schema: text,
		meaning: 'the rotated JSON log (see Logging)'
	},
	logLevel: {
		env: 'LOG_LEVEL',
		default: 'info',
		schema: v.message(
			v.pipe(v.string(), v.toLowerCase(), v.picklist(LOG_LEVELS)),
			LOG_LEVELS.join(', ')
		),
		meaning: '`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`'
	},
	port: {
		env: 'PORT',
		default: '3000',
		schema: wholeNumber(0, 65_535),
		meaning: 'listening port (`0`: any free port, printed in the `listening` log line)'
	},
	host: {
		env: 'HOST',
		default: '0.0.0.0',
		schema: text,
		meaning: 'listening address'
	},
	metricsPort: {
		env: 'METRICS_PORT',
		schema: v.undefinedable(wholeNumber(0, 65_535)),
		meaning:
			'serve Prometheus metrics at `/metrics` on this port of `METRICS_HOST` (`0`: any free port, printed in the `metrics_listening` log line). Unset: no metrics port'
	},
	metricsHost: {
		env: 'METRICS_HOST',
		default: '127.0.0.1',
		schema: text,
		meaning:
			'address of the metrics port; keep it off the public network (in a container: the network Prometheus shares)'
	},
	metricsToken: {
		env: 'METRICS_TOKEN',
		secret: true,
		schema: v.undefinedable(
			v.message(
				v.pipe(v.string(), v.minLength(32), v.regex(/^[\x21-\x7e]+$/)),
				'at least 32 printable characters without spaces, or unset'
			)
		),
		meaning:
			'serve `/metrics` on the main port too, only to `Authorization: Bearer <token>` (32+ characters); without the right token it is a 404 like any unknown path. Also required on the metrics port when set. Unset with `METRICS_PORT` unset: no metrics at all'
	},
	origin: {
		env: 'ORIGIN',
		schema: optionalUrl(['http:', 'https:'], 'an http:// or https:// URL'),
		meaning:
			'the public URL (`https://drop.example.org`), used for the links in responses. Set it behind a proxy'
	},
	addressHeader: {
		env: 'ADDRESS_HEADER',
		schema: v.undefinedable(
			v.message(
				v.pipe(v.string(), v.toLowerCase(), v.regex(/^[a-z0-9-]+$/)),
				'a header name such as x-forwarded-for'
			)
		),
		meaning:
			'behind a proxy: the header that carries the client address (e.g. `x-forwarded-for`). Unset: the TCP peer address, and any `X-Forwarded-For` a client sends is ignored'
	},
	xffDepth: {
		env: 'XFF_DEPTH',
		default: '1',
		schema: wholeNumber(1, 100),
		meaning: 'with `ADDRESS_HEADER=x-forwarded-for`: how many trusted proxies are in front'
	},
	ipv6Prefix: {
		env: 'IPV6_PREFIX',
		default: '56',
		schema: wholeNumber(32, 128),
		meaning:
			'an IPv6 client is counted by its network of this many bits (32-128) for every limit and block: ISPs commonly give a subscriber a /56'
	},
	// adapter-node reads these three itself; declared so that they are documented (one README
	// row for the three, as they share their meaning) and so that server/index.js can tell
	// whether PROTOCOL_HEADER was set.
	protocolHeader: { env: 'PROTOCOL_HEADER', schema: optionalText, meaning: PROXY_HEADERS },
	hostHeader: { env: 'HOST_HEADER', schema: optionalText, meaning: PROXY_HEADERS },
	portHeader: { env: 'PORT_HEADER', schema: optionalText, meaning: PROXY_HEADERS },
	bodySizeLimit: {
		env: 'BODY_SIZE_LIMIT',
		documentedDefault: '`MAX_FILE_SIZE` + 128 KiB',
		schema: byteCount,
		meaning:
			"the cap on a request body: adapter-node's, and the upload routes' own count of an upload's whole body (they read it past adapter-node). If set, it must be at least `MAX_FILE_SIZE` + 128 KiB (131072 bytes: the largest `contents` list, 64 KiB, and 64 KiB for the other fields and part headers), so that it never caps an upload below `MAX_FILE_SIZE`; a smaller value stops the start"
	},
	shutdownTimeoutSeconds: {
		env: 'SHUTDOWN_TIMEOUT',
		default: '30',
		schema: wholeNumber(0, 3600),
		meaning: 'seconds in-flight requests get to finish after SIGTERM/SIGINT'
	},
	headersTimeoutSeconds: {
		env: 'HEADERS_TIMEOUT',
		default: '15',
		schema: wholeNumber(1, 600),
		meaning: "seconds a client gets to send a request's headers (slowloris is cut off)"
	},
	requestTimeoutSeconds: {
		env: 'REQUEST_TIMEOUT',
		default: '300',
		schema: wholeNumber(1, 86_400),
		meaning:
			'seconds a client gets to send a whole request, body included: the longest an upload may take'
	},
	clientIdleTimeoutSeconds: {
		env: 'CLIENT_IDLE_TIMEOUT',
		default: '30',
		schema: wholeNumber(1, 3600),
		meaning:
			'seconds a connection may stay silent in both directions (a stalled upload or a client that stopped reading a download) before it is closed'
	},
	// How long an upload's reservation and a download's reader mark outlive their process if it
	// dies; a live transfer refreshes them every third of it (drops.ts). At least 3 s, so that
	// the refresh (every second then) stays well ahead of the expiry.
	reservationTtlSeconds: {
		env: 'RESERVATION_TTL_SECONDS',
		default: '600',
		schema: wholeNumber(3, 86_400),
		meaning:
			"how long an upload's hold on its passphrase outlives a process that dies mid-upload (3-86400). A live upload renews it every third of this, so uploads may take longer"
	},
	readerTtlSeconds: {
		env: 'READER_TTL_SECONDS',
		default: '3600',
		schema: wholeNumber(3, 86_400),
		meaning:
			"how long a download's claim on its file outlives a process that dies mid-download (3-86400). A live download renews it every third of this, so the file is never shredded under it"
	},
	// Read by libuv itself when its thread pool starts; declared so that the KDF concurrency
	// (src/lib/server/crypto/keys.ts) uses the same number. libuv takes at most 1024.
	uvThreadpoolSize: {
		env: 'UV_THREADPOOL_SIZE',
		default: '4',
		documentedDefault: "`4` (Node's)",
		schema: wholeNumber(1, 1024),
		meaning:
			"libuv's threads (1-1024), shared by scrypt and file I/O; at most min(cores, this - 1) scrypts run at once, so file I/O always has a thread"
	},
	kdfQueueLimit: {
		env: 'KDF_QUEUE_LIMIT',
		default: '100',
		schema: wholeNumber(1, 100_000),
		meaning:
			'passphrase requests that may wait for a scrypt (about 2 s of work on 2 cores). Past it they are answered at once with 503 `SERVER_BUSY` and `Retry-After`; requests by access key never wait for scrypt'
	},
	kdfMaxWaitMs: {
		env: 'KDF_MAX_WAIT_MS',
		default: '1500',
		schema: wholeNumber(50, 600_000),
		meaning:
			'milliseconds a passphrase request may wait for a scrypt; one still waiting then gets 503 `SERVER_BUSY`, so a request by passphrase is answered (or shed) within about this plus one scrypt, however loaded the machine'
	}
});

/** @typedef {keyof typeof SETTINGS} Field */

const FIELD_SCHEMAS = /** @type {{ [F in Field]: (typeof SETTINGS)[F]['schema'] }} */ (
	Object.fromEntries(Object.entries(SETTINGS).map(([field, { schema }]) => [field, schema]))
);

const ONE_REDIS =
	'unset: set only one of REDIS_URL, REDIS_SENTINELS (with REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES';

/**
 * The whole configuration: each field's schema, then what depends on several fields.
 * @param {string} cwd the folder relative paths are resolved against
 */
function configSchema(cwd) {
	/** @param {string} value */
	const resolve = (value) => path.resolve(cwd, value);
	return v.pipe(
		v.object(FIELD_SCHEMAS),
		v.transform((fields) => ({
			...fields,
			storagePath: resolve(fields.storagePath),
			tempPath: resolve(fields.tempPath),
			dicewareWordlistPath: resolve(fields.dicewareWordlistPath),
			logPath: resolve(fields.logPath),
			bodySizeLimit: fields.bodySizeLimit ?? fields.maxFileSize + MULTIPART_HEADROOM_BYTES
		})),
		// A BODY_SIZE_LIMIT below that would refuse large uploads with adapter-node's bare 413
		// instead of the upload route's byte-exact check.
		v.forward(
			v.check(
				({ bodySizeLimit, maxFileSize }) => bodySizeLimit >= maxFileSize + MULTIPART_HEADROOM_BYTES,
				({ input }) =>
					`at least MAX_FILE_SIZE + ${MULTIPART_HEADROOM_BYTES} = ${input.maxFileSize + MULTIPART_HEADROOM_BYTES} bytes, or unset`
			),
			['bodySizeLimit']
		),
		v.forward(
			v.check(
				({ storageBackend, s3Bucket }) => storageBackend !== 's3' || s3Bucket !== undefined,
				'a bucket name: STORAGE_BACKEND=s3 needs one'
			),
			['s3Bucket']
		),
		// One way to reach Redis: a URL, sentinels or cluster nodes. Two would leave it to the
		// code's order which one wins, and an operator would not know which one is used.
		v.forward(
			v.check(
				({ redisUrl, redisSentinels }) => !(redisUrl && redisSentinels.length > 0),
				ONE_REDIS
			),
			['redisSentinels']
		),
		v.forward(
			v.check(
				({ redisUrl, redisSentinels, redisClusterNodes }) =>
					!((redisUrl || redisSentinels.length > 0) && redisClusterNodes.length > 0),
				ONE_REDIS
			),
			['redisClusterNodes']
		),
		v.forward(
			v.check(
				({ redisSentinels, redisSentinelName }) =>
					redisSentinels.length > 0 === (redisSentinelName !== undefined),
				({ input }) =>
					input.redisSentinels.length > 0
						? 'the master group name the sentinels monitor: it is required with REDIS_SENTINELS'
						: 'unset without REDIS_SENTINELS'
			),
			['redisSentinelName']
		),
		v.forward(
			v.check(
				({ redisUrl, redisSentinels, redisClusterNodes, redisPassword }) =>
					redisPassword === undefined ||
					(!redisUrl && (redisSentinels.length > 0 || redisClusterNodes.length > 0)),
				'unset unless REDIS_SENTINELS or REDIS_CLUSTER_NODES is set; with REDIS_URL the password goes in the URL'
			),
			['redisPassword']
		),
		// The sweeps treat each folder's files by its own naming; one folder for both would make
		// stored drops look like foreign files to the temp clean-up, which removes them.
		v.forward(
			v.check(
				({ storagePath, tempPath }) => storagePath !== tempPath,
				'a different folder from STORAGE_PATH'
			),
			['tempPath']
		)
	);
}

/** @typedef {Readonly<v.InferOutput<ReturnType<typeof configSchema>>>} Config */
/** @typedef {Config['uploadRateLimit']} RateLimit */
/** @typedef {(typeof LOG_LEVELS)[number]} LogLevel */

/**
 * Unset and empty both mean "use the default", as in the seed's .env files.
 * @param {Record<string, string | undefined>} env
 * @param {string} name
 */
function raw(env, name) {
	const value = env[name]?.trim();
	return value === undefined || value === '' ? undefined : value;
}

/**
 * Parse and validate the environment. Pure: tests call it with their own `env`.
 * @param {Record<string, string | undefined>} env
 * @param {string} [cwd] the folder relative paths are resolved against
 * @returns {Config} frozen
 * @throws {StartupError} naming the first bad variable, its value and what it should be.
 */
export function parseConfig(env, cwd = process.cwd()) {
	/** @type {Record<string, string | undefined>} */
	const input = {};
	for (const [field, setting] of /** @type {[Field, Setting][]} */ (Object.entries(SETTINGS))) {
		input[field] = raw(env, setting.env) ?? setting.default;
	}
	const result = v.safeParse(configSchema(cwd), input, { abortEarly: true });
	if (result.success) return Object.freeze(result.output);

	const [issue] = result.issues;
	const field = /** @type {Field} */ (issue.path?.[0]?.key);
	/** @type {Setting} */
	const setting = SETTINGS[field];
	const shown = setting.secret ? '(hidden)' : (raw(env, setting.env) ?? '');
	throw new StartupError(
		`Invalid value for ${setting.env}: ${JSON.stringify(shown)} (should be ${issue.message})`
	);
}
