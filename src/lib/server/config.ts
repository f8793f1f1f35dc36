/**
 * Every environment variable Raven Zero reads, parsed and validated once.
 *
 * This is the only module that reads `process.env` (server/index.js reads the few listening
 * options again, after this module has validated them). A bad value throws a StartupError
 * whose message is one line in adapter-node's format, which the entry point prints without a
 * stack trace before exiting with code 1.
 */
import path from 'node:path';
import { MULTIPART_HEADROOM_BYTES } from '../../../server/shared.js';

/** A mistake in the environment or in a file the service needs at start: printed, then exit 1. */
export class StartupError extends Error {
	override name = 'StartupError';
}

export type RateLimit = { points: number; durationSeconds: number; text: string };

export type Config = Readonly<{
	redisUrl: string | undefined;
	storagePath: string;
	tempPath: string;
	maxFileSize: number;
	allowedMimeTypes: readonly string[];
	uploadRateLimit: RateLimit;
	healthRateLimit: RateLimit;
	downloadFailLimit: number;
	downloadBlockWindowSeconds: number;
	cleanupIntervalMinutes: number;
	orphanAgeMinutes: number;
	secureShredPasses: number;
	dicewareWordlistPath: string;
	passphraseWords: number;
	serverSecret: string | undefined;
	corsOrigins: readonly string[];
	minFreeDiskMb: number;
	logPath: string;
	logLevel: LogLevel;
	port: number;
	host: string;
	origin: string | undefined;
	addressHeader: string | undefined;
	xffDepth: number;
	bodySizeLimit: number;
	shutdownTimeoutSeconds: number;
	headersTimeoutSeconds: number;
	requestTimeoutSeconds: number;
	clientIdleTimeoutSeconds: number;
	reservationTtlSeconds: number;
	readerTtlSeconds: number;
}>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export { MULTIPART_HEADROOM_BYTES };

const RATE_UNITS: Record<string, number> = { second: 1, minute: 60, hour: 3600, day: 86_400 };

type Env = Record<string, string | undefined>;

function invalid(name: string, value: string, expected: string): never {
	throw new StartupError(
		`Invalid value for ${name}: ${JSON.stringify(value)} (should be ${expected})`
	);
}

/** Unset and empty both mean "use the default", as in the seed's .env files. */
function raw(env: Env, name: string): string | undefined {
	const value = env[name]?.trim();
	return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
	const value = raw(env, name);
	if (value === undefined) return fallback;
	if (!/^\d+$/.test(value)) invalid(name, value, `a whole number from ${min} to ${max}`);
	const parsed = Number(value);
	if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
		invalid(name, value, `a whole number from ${min} to ${max}`);
	}
	return parsed;
}

function text(env: Env, name: string, fallback: string): string {
	return raw(env, name) ?? fallback;
}

function rateLimit(env: Env, name: string, fallback: string): RateLimit {
	const value = raw(env, name) ?? fallback;
	const match = /^(\d+)\s*\/\s*(second|minute|hour|day)$/i.exec(value);
	const points = match ? Number(match[1]) : 0;
	if (!match || points < 1 || !Number.isSafeInteger(points)) {
		invalid(name, value, 'N/second, N/minute, N/hour or N/day with N at least 1');
	}
	const unit = match[2]!.toLowerCase();
	return { points, durationSeconds: RATE_UNITS[unit]!, text: `${points}/${unit}` };
}

/** A comma-separated list or a JSON array of strings, as the seed accepted both. */
function list(env: Env, name: string): string[] {
	const value = raw(env, name);
	if (value === undefined) return [];
	if (value.startsWith('[')) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(value);
		} catch {
			invalid(name, value, 'a comma-separated list or a JSON array of strings');
		}
		if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
			invalid(name, value, 'a comma-separated list or a JSON array of strings');
		}
		return parsed.map((item: string) => item.trim()).filter(Boolean);
	}
	return value
		.split(',')
		.map((item) => item.trim())
		.filter(Boolean);
}

function mimeTypes(env: Env, name: string): string[] {
	const types = list(env, name).map((type) => type.toLowerCase());
	for (const type of types) {
		if (!/^[a-z0-9][a-z0-9!#$&^_.+-]*\/(\*|[a-z0-9][a-z0-9!#$&^_.+-]*)$/.test(type)) {
			invalid(name, env[name] ?? '', 'MIME types such as image/png or image/*, comma-separated');
		}
	}
	return types;
}

function origins(env: Env, name: string): string[] {
	const values = list(env, name);
	return values.map((value) => {
		if (value === '*') return value;
		let url: URL;
		try {
			url = new URL(value);
		} catch {
			invalid(name, env[name] ?? '', 'origins such as https://example.org, comma-separated, or *');
		}
		if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== value) {
			invalid(name, env[name] ?? '', 'origins such as https://example.org, comma-separated, or *');
		}
		return url.origin;
	});
}

function optionalUrl(env: Env, name: string, protocols: string[], expected: string) {
	const value = raw(env, name);
	if (value === undefined) return undefined;
	try {
		const url = new URL(value);
		if (protocols.includes(url.protocol)) return value;
	} catch {
		// falls through to the one error format below
	}
	invalid(name, value, expected);
}

/** adapter-node's BODY_SIZE_LIMIT syntax: a byte count with an optional K, M or G, or Infinity. */
function bytes(env: Env, name: string, fallback: number): number {
	const value = raw(env, name);
	if (value === undefined) return fallback;
	if (value === 'Infinity') return Infinity;
	const match = /^(\d+)([KMG])?$/i.exec(value);
	if (!match) invalid(name, value, 'a byte count such as 12000000, 512K, 20M or Infinity');
	const multiplier = { K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[match[2]?.toUpperCase() ?? ''] ?? 1;
	return Number(match[1]) * multiplier;
}

/**
 * Parse and validate the environment. Pure: tests call it with their own `env`.
 * @throws StartupError naming the first bad variable, its value and what it should be.
 */
export function parseConfig(env: Env, cwd = process.cwd()): Config {
	const maxFileSize = integer(env, 'MAX_FILE_SIZE', 10_485_760, 1, Number.MAX_SAFE_INTEGER);
	const minimumBody = maxFileSize + MULTIPART_HEADROOM_BYTES;
	const bodySizeLimit = bytes(env, 'BODY_SIZE_LIMIT', minimumBody);
	if (bodySizeLimit < minimumBody) {
		invalid(
			'BODY_SIZE_LIMIT',
			raw(env, 'BODY_SIZE_LIMIT') ?? '',
			`at least MAX_FILE_SIZE + ${MULTIPART_HEADROOM_BYTES} = ${minimumBody} bytes, or unset`
		);
	}

	const serverSecret = raw(env, 'SERVER_SECRET');
	if (serverSecret !== undefined && serverSecret.length < 16) {
		invalid('SERVER_SECRET', '(hidden)', 'at least 16 characters, or unset');
	}

	const logLevel = text(env, 'LOG_LEVEL', 'info').toLowerCase();
	if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
		invalid('LOG_LEVEL', logLevel, LOG_LEVELS.join(', '));
	}

	const addressHeader = raw(env, 'ADDRESS_HEADER')?.toLowerCase();
	if (addressHeader !== undefined && !/^[a-z0-9-]+$/.test(addressHeader)) {
		invalid('ADDRESS_HEADER', addressHeader, 'a header name such as x-forwarded-for');
	}

	const resolve = (value: string) => path.resolve(cwd, value);
	const storagePath = resolve(text(env, 'STORAGE_PATH', './storage/uploads'));
	const tempPath = resolve(text(env, 'TEMP_PATH', './storage/temp'));
	// The sweeps treat each folder's files by its own naming; one folder for both would make
	// stored drops look like foreign files to the temp clean-up, which removes them.
	if (storagePath === tempPath) {
		invalid('TEMP_PATH', raw(env, 'TEMP_PATH') ?? '', 'a different folder from STORAGE_PATH');
	}

	return Object.freeze({
		redisUrl: optionalUrl(
			env,
			'REDIS_URL',
			['redis:', 'rediss:'],
			'a redis:// or rediss:// URL, or unset for the in-process store'
		),
		storagePath,
		tempPath,
		maxFileSize,
		allowedMimeTypes: Object.freeze(mimeTypes(env, 'ALLOWED_MIME_TYPES')),
		uploadRateLimit: rateLimit(env, 'UPLOAD_RATE_LIMIT', '30/hour'),
		healthRateLimit: rateLimit(env, 'HEALTH_RATE_LIMIT', '1/second'),
		downloadFailLimit: integer(env, 'DOWNLOAD_FAIL_LIMIT', 10, 1, 1_000_000),
		downloadBlockWindowSeconds: integer(env, 'DOWNLOAD_BLOCK_WINDOW', 1800, 1, 31_536_000),
		cleanupIntervalMinutes: integer(env, 'CLEANUP_INTERVAL_MINUTES', 10, 1, 1440),
		orphanAgeMinutes: integer(env, 'ORPHAN_AGE_MINUTES', 15, 1, 10_080),
		secureShredPasses: integer(env, 'SECURE_SHRED_PASSES', 1, 0, 35),
		dicewareWordlistPath: resolve(text(env, 'DICEWARE_WORDLIST_PATH', 'data/diceware_words.txt')),
		passphraseWords: integer(env, 'PASSPHRASE_WORDS', 4, 3, 10),
		serverSecret,
		corsOrigins: Object.freeze(origins(env, 'CORS_ORIGINS')),
		minFreeDiskMb: integer(env, 'MIN_FREE_DISK_MB', 100, 0, 1_000_000_000),
		logPath: resolve(text(env, 'LOG_PATH', './logs/raven_zero.log')),
		logLevel: logLevel as LogLevel,
		port: integer(env, 'PORT', 3000, 0, 65_535),
		host: text(env, 'HOST', '0.0.0.0'),
		origin: optionalUrl(env, 'ORIGIN', ['http:', 'https:'], 'an http:// or https:// URL'),
		addressHeader,
		xffDepth: integer(env, 'XFF_DEPTH', 1, 1, 100),
		bodySizeLimit,
		shutdownTimeoutSeconds: integer(env, 'SHUTDOWN_TIMEOUT', 30, 0, 3600),
		headersTimeoutSeconds: integer(env, 'HEADERS_TIMEOUT', 15, 1, 600),
		requestTimeoutSeconds: integer(env, 'REQUEST_TIMEOUT', 300, 1, 86_400),
		clientIdleTimeoutSeconds: integer(env, 'CLIENT_IDLE_TIMEOUT', 30, 1, 3600),
		// How long an upload's reservation and a download's reader mark outlive their process
		// if it dies; a live transfer refreshes them every third of it (drops.ts). At least 3 s,
		// so that the refresh (every second then) stays well ahead of the expiry.
		reservationTtlSeconds: integer(env, 'RESERVATION_TTL_SECONDS', 600, 3, 86_400),
		readerTtlSeconds: integer(env, 'READER_TTL_SECONDS', 3600, 3, 86_400)
	});
}

let loaded: Config | undefined;

/** The validated configuration of this process, parsed from `process.env` on first use. */
export function getConfig(): Config {
	loaded ??= parseConfig(process.env);
	return loaded;
}
