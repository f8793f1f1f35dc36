import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
	CONTENTS_FIELD_BYTES,
	MULTIPART_HEADROOM_BYTES,
	SETTINGS,
	type Setting
} from '../../server/shared.js';
import { CONTENTS } from '../../src/lib/drop-bounds';
import { parseConfig, StartupError } from '../../src/lib/server/config';

describe('parseConfig', () => {
	test('uses the seed defaults when nothing is set', () => {
		const config = parseConfig({}, '/srv/rz');
		expect(config).toMatchObject({
			redisUrl: undefined,
			storagePath: '/srv/rz/storage/uploads',
			tempPath: '/srv/rz/storage/temp',
			maxFileSize: 10_485_760,
			allowedMimeTypes: [],
			uploadRateLimit: { points: 30, durationSeconds: 3600 },
			healthRateLimit: { points: 1, durationSeconds: 1 },
			downloadFailLimit: 10,
			downloadBlockWindowSeconds: 1800,
			cleanupIntervalMinutes: 10,
			orphanAgeMinutes: 15,
			secureShredPasses: 1,
			dicewareWordlistPath: '/srv/rz/data/diceware_words.txt',
			passphraseWords: 4,
			serverSecret: undefined,
			corsOrigins: [],
			minFreeDiskMb: 100,
			logPath: '/srv/rz/logs/raven_zero.log',
			logLevel: 'info',
			port: 3000,
			host: '0.0.0.0',
			xffDepth: 1,
			shutdownTimeoutSeconds: 30,
			reservationTtlSeconds: 600,
			readerTtlSeconds: 3600,
			storageBackend: 'fs',
			s3Endpoint: undefined,
			s3Bucket: undefined,
			s3Region: 'us-east-1',
			s3Prefix: 'raven-zero/',
			s3ForcePathStyle: false,
			s3ApplyLifecycle: false,
			s3Checksums: 'when_required'
		});
		expect(config.bodySizeLimit).toBe(10_485_760 + 128 * 1024);
		expect(Object.isFrozen(config)).toBe(true);
	});

	test.each([
		['ALLOWED_MIME_TYPES', 'image/png, application/pdf', ['image/png', 'application/pdf']],
		['ALLOWED_MIME_TYPES', '["image/png","text/plain"]', ['image/png', 'text/plain']],
		['ALLOWED_MIME_TYPES', 'IMAGE/*', ['image/*']],
		[
			'CORS_ORIGINS',
			'https://a.example, http://localhost:5173',
			['https://a.example', 'http://localhost:5173']
		],
		['CORS_ORIGINS', '*', ['*']]
	] as const)('%s=%s parses as a list', (name, value, expected) => {
		const config = parseConfig({ [name]: value });
		const field = name === 'ALLOWED_MIME_TYPES' ? config.allowedMimeTypes : config.corsOrigins;
		expect(field).toEqual(expected);
	});

	test.each([
		['UPLOAD_RATE_LIMIT', '5/minute', { points: 5, durationSeconds: 60 }],
		['UPLOAD_RATE_LIMIT', '100 / day', { points: 100, durationSeconds: 86_400 }],
		['HEALTH_RATE_LIMIT', '2/SECOND', { points: 2, durationSeconds: 1 }]
	] as const)('%s=%s parses as a rate', (name, value, expected) => {
		const config = parseConfig({ [name]: value });
		const field = name === 'UPLOAD_RATE_LIMIT' ? config.uploadRateLimit : config.healthRateLimit;
		expect(field).toMatchObject(expected);
	});

	test('RESERVATION_TTL_SECONDS and READER_TTL_SECONDS can be shortened down to 3 s', () => {
		expect(parseConfig({ RESERVATION_TTL_SECONDS: '3', READER_TTL_SECONDS: '45' })).toMatchObject({
			reservationTtlSeconds: 3,
			readerTtlSeconds: 45
		});
	});

	test('an empty value means the default, as in the seed .env files', () => {
		expect(parseConfig({ MAX_FILE_SIZE: '', REDIS_URL: '  ' })).toMatchObject({
			maxFileSize: 10_485_760,
			redisUrl: undefined
		});
	});

	test('BODY_SIZE_LIMIT follows MAX_FILE_SIZE unless set, and accepts K/M/G and Infinity', () => {
		expect(parseConfig({ MAX_FILE_SIZE: '1000' }).bodySizeLimit).toBe(1000 + 131_072);
		// The headroom holds the largest `contents` list the upload accepts, and 64 KiB more.
		expect(CONTENTS_FIELD_BYTES).toBe(CONTENTS.maxBytes);
		expect(MULTIPART_HEADROOM_BYTES).toBe(CONTENTS.maxBytes + 65_536);
		expect(parseConfig({ MAX_FILE_SIZE: '1000', BODY_SIZE_LIMIT: '1M' }).bodySizeLimit).toBe(
			1_048_576
		);
		expect(parseConfig({ BODY_SIZE_LIMIT: 'Infinity' }).bodySizeLimit).toBe(Infinity);
	});

	test.each([
		[
			'MAX_FILE_SIZE',
			'abc',
			'Invalid value for MAX_FILE_SIZE: "abc" (should be a whole number from 1 to'
		],
		['MAX_FILE_SIZE', '0', 'MAX_FILE_SIZE: "0"'],
		['MAX_FILE_SIZE', '-5', 'MAX_FILE_SIZE: "-5"'],
		['MAX_FILE_SIZE', '1.5', 'MAX_FILE_SIZE: "1.5"'],
		['PASSPHRASE_WORDS', '2', 'PASSPHRASE_WORDS: "2" (should be a whole number from 3 to 10)'],
		['PASSPHRASE_WORDS', '11', 'PASSPHRASE_WORDS: "11"'],
		['UPLOAD_RATE_LIMIT', '30/fortnight', 'UPLOAD_RATE_LIMIT: "30/fortnight" (should be N/second'],
		['HEALTH_RATE_LIMIT', '0/second', 'HEALTH_RATE_LIMIT: "0/second"'],
		[
			'REDIS_URL',
			'localhost:6379',
			'REDIS_URL: "localhost:6379" (should be a redis:// or rediss:// URL'
		],
		['ALLOWED_MIME_TYPES', 'png', 'ALLOWED_MIME_TYPES: "png"'],
		['ALLOWED_MIME_TYPES', '["image/png", 3]', 'ALLOWED_MIME_TYPES'],
		['CORS_ORIGINS', 'https://a.example/path', 'CORS_ORIGINS: "https://a.example/path"'],
		[
			'LOG_LEVEL',
			'loud',
			'LOG_LEVEL: "loud" (should be fatal, error, warn, info, debug, trace, silent)'
		],
		['PORT', '70000', 'PORT: "70000"'],
		['ORIGIN', 'example.org', 'ORIGIN: "example.org" (should be an http:// or https:// URL)'],
		['SECURE_SHRED_PASSES', '99', 'SECURE_SHRED_PASSES: "99"'],
		['DOWNLOAD_FAIL_LIMIT', 'ten', 'DOWNLOAD_FAIL_LIMIT: "ten"'],
		[
			'BODY_SIZE_LIMIT',
			'512K',
			'BODY_SIZE_LIMIT: "512K" (should be at least MAX_FILE_SIZE + 131072'
		],
		['BODY_SIZE_LIMIT', 'lots', 'BODY_SIZE_LIMIT: "lots"'],
		['ADDRESS_HEADER', 'x forwarded', 'ADDRESS_HEADER'],
		[
			'RESERVATION_TTL_SECONDS',
			'2',
			'RESERVATION_TTL_SECONDS: "2" (should be a whole number from 3 to 86400)'
		],
		['READER_TTL_SECONDS', '1h', 'READER_TTL_SECONDS: "1h" (should be a whole number from 3 to'],
		['READER_TTL_SECONDS', '0', 'READER_TTL_SECONDS: "0"']
	] as const)('%s=%s is refused with one clear line', (name, value, message) => {
		let caught: unknown;
		try {
			parseConfig({ [name]: value });
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(StartupError);
		const text = (caught as Error).message;
		expect(text).toContain(message);
		expect(text).not.toContain('\n');
	});

	test('STORAGE_BACKEND=s3 takes the S3_ settings, and needs a bucket', () => {
		const config = parseConfig({
			STORAGE_BACKEND: 'S3',
			S3_ENDPOINT: 'http://garage:3900',
			S3_BUCKET: 'drops.example',
			S3_PREFIX: 'rz/',
			S3_FORCE_PATH_STYLE: 'TRUE',
			S3_APPLY_LIFECYCLE: '1',
			S3_CHECKSUMS: 'When_Supported'
		});
		expect(config).toMatchObject({
			storageBackend: 's3',
			s3Endpoint: 'http://garage:3900',
			s3Bucket: 'drops.example',
			s3Prefix: 'rz/',
			s3ForcePathStyle: true,
			s3ApplyLifecycle: true,
			s3Checksums: 'when_supported'
		});
		expect(() => parseConfig({ STORAGE_BACKEND: 's3' })).toThrow(
			'Invalid value for S3_BUCKET: "" (should be a bucket name: STORAGE_BACKEND=s3 needs one)'
		);
	});

	test.each([
		['STORAGE_BACKEND', 'gcs', 'STORAGE_BACKEND: "gcs" (should be fs or s3)'],
		['S3_BUCKET', 'My_Bucket', 'S3_BUCKET: "My_Bucket" (should be a bucket name'],
		['S3_ENDPOINT', 'garage:3900', 'S3_ENDPOINT: "garage:3900" (should be an http://'],
		['S3_FORCE_PATH_STYLE', 'maybe', 'S3_FORCE_PATH_STYLE: "maybe" (should be true or false)'],
		['S3_CHECKSUMS', 'crc32', 'S3_CHECKSUMS: "crc32" (should be when_supported or when_required)'],
		['S3_PREFIX', 'my drops/', 'S3_PREFIX: "my drops/"']
	] as const)('%s=%s is refused', (name, value, message) => {
		expect(() => parseConfig({ [name]: value })).toThrow(`Invalid value for ${message}`);
	});

	test('REDIS_SENTINELS with REDIS_SENTINEL_NAME, or REDIS_CLUSTER_NODES, parse as host:port lists', () => {
		expect(
			parseConfig({
				REDIS_SENTINELS: '10.0.0.5:26379, sentinel-b:26380,[::1]:26381',
				REDIS_SENTINEL_NAME: 'rz-primary',
				REDIS_PASSWORD: 'pw'
			})
		).toMatchObject({
			redisUrl: undefined,
			redisSentinels: [
				{ host: '10.0.0.5', port: 26379 },
				{ host: 'sentinel-b', port: 26380 },
				{ host: '::1', port: 26381 }
			],
			redisSentinelName: 'rz-primary',
			redisClusterNodes: [],
			redisPassword: 'pw'
		});
		expect(parseConfig({ REDIS_CLUSTER_NODES: 'a:7000,b:7001' })).toMatchObject({
			redisSentinels: [],
			redisClusterNodes: [
				{ host: 'a', port: 7000 },
				{ host: 'b', port: 7001 }
			],
			redisPassword: undefined
		});
	});

	test.each([
		[
			{ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000' },
			'Invalid value for REDIS_CLUSTER_NODES: "a:7000" (should be unset: set only one of REDIS_URL, REDIS_SENTINELS (with REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES)'
		],
		[
			{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' },
			'Invalid value for REDIS_SENTINELS: "s:26379" (should be unset: set only one of'
		],
		[
			{ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'a:7000' },
			'Invalid value for REDIS_CLUSTER_NODES: "a:7000" (should be unset: set only one of'
		],
		[
			{ REDIS_SENTINELS: 's:26379' },
			'Invalid value for REDIS_SENTINEL_NAME: "" (should be the master group name the sentinels monitor: it is required with REDIS_SENTINELS)'
		],
		[
			{ REDIS_SENTINEL_NAME: 'm' },
			'Invalid value for REDIS_SENTINEL_NAME: "m" (should be unset without REDIS_SENTINELS)'
		],
		[{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'Invalid value for REDIS_CLUSTER_NODES: "a:7000,b"'],
		[{ REDIS_SENTINELS: 's:99999', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: "s:99999"'],
		[
			{ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'pw' },
			'Invalid value for REDIS_PASSWORD: "(hidden)" (should be unset unless REDIS_SENTINELS or REDIS_CLUSTER_NODES is set'
		]
	] as const)('one way to Redis: %o is refused with one clear line', (env, message) => {
		let caught: unknown;
		try {
			parseConfig(env);
		} catch (error) {
			caught = error;
		}
		expect(caught).toBeInstanceOf(StartupError);
		expect((caught as Error).message).toContain(message);
		expect((caught as Error).message).not.toContain('\n');
	});

	test('TEMP_PATH must not be the STORAGE_PATH folder', () => {
		expect(() => parseConfig({ STORAGE_PATH: './s', TEMP_PATH: 's/' }, '/srv')).toThrow(
			'Invalid value for TEMP_PATH: "s/" (should be a different folder from STORAGE_PATH)'
		);
	});

	test('a short SERVER_SECRET is refused without echoing it', () => {
		expect(() => parseConfig({ SERVER_SECRET: 'hunter2' })).toThrow(
			'Invalid value for SERVER_SECRET: "(hidden)" (should be at least 16 characters, or unset)'
		);
	});
});

describe('SETTINGS, the one declaration of every variable', () => {
	const documentedDefault = (setting: Setting) =>
		setting.documentedDefault ??
		(setting.default === undefined ? 'unset' : `\`${setting.default}\``);

	test("README's configuration table lists every variable, and only those, with its default and meaning", () => {
		const readme = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
		const section = /^## Configuration\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
		const rows = section
			.split('\n')
			.filter((line) => line.startsWith('| `'))
			.map((line) =>
				line
					.split('|')
					.slice(1, -1)
					.map((cell) => cell.trim())
			);
		// One row per variable, except that neighbours sharing a default and a meaning (the
		// three proxy headers) share a row: `A`, `B`, `C`.
		const declared: string[][] = [];
		for (const setting of Object.values(SETTINGS) as Setting[]) {
			const row = [`\`${setting.env}\``, documentedDefault(setting), setting.meaning];
			const last = declared.at(-1);
			if (last && last[1] === row[1] && last[2] === row[2]) last[0] += `, ${row[0]}`;
			else declared.push(row);
		}
		expect(rows).toEqual(declared);
	});
});
