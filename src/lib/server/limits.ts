/**
 * Rate limits per client address, kept in the store so every instance shares them.
 *
 * Addresses never reach the store or the log in the clear: a limiter key is a keyed hash of
 * the address (see `clientKey`). When Redis is away, each limiter decides for itself what an
 * outage means; the health limiter falls back to this process's memory, because a monitor
 * must still be told that the service is degraded.
 */
import { createHmac } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config, RateLimit } from './config';
import { formatBytes } from '../format';
import { noMetrics, type LimitName, type Metrics } from './metrics';
import { refuse, type Refusal } from './refusal';
import { StoreUnavailableError, type MetadataStore } from './store';
import { RedisStore } from './store/redis';

/** A limit let the request through (with its RateLimit-* headers), or refused it. */
export type LimitDecision = { ok: true; headers: Record<string, string> } | Refusal;

type Limiter = RateLimiterMemory | RateLimiterRedis;

/**
 * Malformed passphrases (words not in the list) cost no scrypt and are not failures, but a
 * client sending nothing else is still limited: 30 per 10 minutes per address.
 */
export const MALFORMED_LIMIT: RateLimit = {
	points: 30,
	durationSeconds: 600,
	text: '30/10 minutes'
};

/**
 * Uploads refused for the client's own mistakes once their work had started (a passphrase
 * drawn with its scrypt, the body read): they do not use up UPLOAD_RATE_LIMIT, which counts
 * stored drops, but a client sending nothing else is still stopped. 100 an hour is far past
 * what a person fixing a form does, and bounds what a script gets: 100 scrypts and
 * UPLOAD_BYTE_LIMIT's bytes an hour.
 */
export const REFUSED_UPLOAD_LIMIT: RateLimit = {
	points: 100,
	durationSeconds: 3600,
	text: '100/hour'
};

/**
 * One limiter on the store. `onOutage` says what a store outage means: `memory` falls back
 * to this process's own counters (health must still answer), `refuse` rejects and the caller
 * answers 503 (the brute-force block fails closed, never open).
 */
function createLimiter(
	store: MetadataStore,
	name: string,
	limit: RateLimit,
	onOutage: 'memory' | 'refuse'
): Limiter {
	const options = {
		keyPrefix: `limit:${name}`,
		points: limit.points,
		duration: limit.durationSeconds
	};
	if (store instanceof RedisStore) {
		return new RateLimiterRedis({
			...options,
			storeClient: store.client,
			useRedisPackage: false,
			insuranceLimiter: onOutage === 'memory' ? new RateLimiterMemory(options) : undefined
		});
	}
	return new RateLimiterMemory(options);
}

/**
 * The key a client's counters are kept under: an HMAC of its address, so a copy of Redis
 * does not list who used the service. Keyed with SERVER_SECRET when set; without it the
 * hash still hides addresses from a casual look, though IPv4 could be brute-forced.
 */
export function clientKey(address: string, serverSecret: string | undefined): string {
	const secret = serverSecret ?? 'raven-zero/v1/client';
	return createHmac('sha256', secret).update(address).digest('base64url').slice(0, 22);
}

function headersFor(limit: RateLimit, result: RateLimiterRes): Record<string, string> {
	return {
		'RateLimit-Limit': String(limit.points),
		'RateLimit-Remaining': String(Math.max(0, result.remainingPoints)),
		'RateLimit-Reset': String(Math.ceil(result.msBeforeNext / 1000))
	};
}

/** What a limit says when it refuses: a code of the catalogue and a sentence with the wait. */
type Refuser = (retryAfterSeconds: number, headers: Record<string, string>) => Refusal;

const tooMany =
	(what: string): Refuser =>
	(retryAfterSeconds, headers) =>
		refuse('RATE_LIMITED', {
			detail: `Too many ${what} from this address. Try again in ${retryAfterSeconds} s.`,
			retryAfterSeconds,
			headers
		});

/** A window as people say it: `hour`, `10 minutes`. */
function formatSeconds(seconds: number): string {
	const units = [
		[86_400, 'day'],
		[3600, 'hour'],
		[60, 'minute'],
		[1, 'second']
	] as const;
	const [size, name] = units.find(([size]) => seconds % size === 0) ?? [1, 'second'];
	const count = seconds / size;
	return count === 1 ? name : `${count} ${name}s`;
}

const waitOf = (result: RateLimiterRes) => Math.max(1, Math.ceil(result.msBeforeNext / 1000));

/** The limits of one configuration on one store; every instance on the store shares them. */
export class Limits {
	readonly #config: Config;
	readonly #failureLimit: RateLimit;
	readonly #health: Limiter;
	readonly #upload: Limiter;
	readonly #refusedUploads: Limiter;
	readonly #uploadBytes: Limiter;
	readonly #lookup: Limiter;
	readonly #failures: Limiter;
	readonly #malformed: Limiter;
	readonly #metrics: Metrics;

	constructor(config: Config, store: MetadataStore, metrics: Metrics = noMetrics) {
		this.#config = config;
		this.#metrics = metrics;
		this.#failureLimit = {
			points: config.downloadFailLimit,
			durationSeconds: config.downloadBlockWindowSeconds,
			text: `${config.downloadFailLimit}/${config.downloadBlockWindowSeconds} s`
		};
		this.#health = createLimiter(store, 'health', config.healthRateLimit, 'memory');
		this.#upload = createLimiter(store, 'upload', config.uploadRateLimit, 'refuse');
		this.#refusedUploads = createLimiter(store, 'refused-upload', REFUSED_UPLOAD_LIMIT, 'refuse');
		this.#uploadBytes = createLimiter(store, 'upload-bytes', config.uploadByteLimit, 'refuse');
		this.#lookup = createLimiter(store, 'lookup', config.lookupRateLimit, 'refuse');
		this.#failures = createLimiter(store, 'failures', this.#failureLimit, 'refuse');
		this.#malformed = createLimiter(store, 'malformed', MALFORMED_LIMIT, 'refuse');
	}

	#key(address: string): string {
		return clientKey(address, this.#config.serverSecret);
	}

	async #consume(
		limiter: Limiter,
		limit: RateLimit,
		address: string,
		refusal: Refuser,
		name: LimitName
	): Promise<LimitDecision> {
		try {
			const result = await limiter.consume(this.#key(address));
			return { ok: true, headers: headersFor(limit, result) };
		} catch (rejection) {
			if (rejection instanceof RateLimiterRes) {
				this.#metrics.limitHit(name);
				return refusal(waitOf(rejection), headersFor(limit, rejection));
			}
			throw new StoreUnavailableError(rejection);
		}
	}

	/** Count one health check for this client against HEALTH_RATE_LIMIT. */
	health(address: string): Promise<LimitDecision> {
		const limit = this.#config.healthRateLimit;
		return this.#consume(this.#health, limit, address, tooMany('health checks'), 'health');
	}

	/**
	 * Count one upload against UPLOAD_RATE_LIMIT, before its work starts, so that however many
	 * race (on any instance) no more than the limit get through. The upload gives it back with
	 * `refundUpload` when it is refused: the limit counts stored drops (and access-key
	 * collisions, which are guesses), not refusals. @throws StoreUnavailableError
	 */
	upload(address: string): Promise<LimitDecision> {
		const limit = this.#config.uploadRateLimit;
		return this.#consume(this.#upload, limit, address, tooMany('uploads'), 'upload');
	}

	/** Give back the count of an upload that stored nothing. @throws StoreUnavailableError */
	async refundUpload(address: string): Promise<void> {
		await this.#store(() => this.#upload.reward(this.#key(address), 1));
	}

	/**
	 * Whether this client may start an upload at all, counting nothing: refused when
	 * UPLOAD_RATE_LIMIT or REFUSED_UPLOAD_LIMIT is used up (cheap: two reads, before any
	 * work). @throws StoreUnavailableError
	 */
	async uploadAllowed(address: string): Promise<LimitDecision> {
		const key = this.#key(address);
		const uploads = this.#config.uploadRateLimit;
		const [counted, refused] = await this.#store(() =>
			Promise.all([this.#upload.get(key), this.#refusedUploads.get(key)])
		);
		if (counted && counted.consumedPoints >= uploads.points) {
			return tooMany('uploads')(waitOf(counted), headersFor(uploads, counted));
		}
		if (refused && refused.consumedPoints >= REFUSED_UPLOAD_LIMIT.points) {
			return tooMany('refused uploads')(waitOf(refused), headersFor(REFUSED_UPLOAD_LIMIT, refused));
		}
		// The RateLimit-* headers come with the answer, counted (drops.ts).
		return { ok: true, headers: {} };
	}

	/** Count one upload refused after its work started against REFUSED_UPLOAD_LIMIT. */
	async recordRefusedUpload(address: string): Promise<void> {
		await this.#store(() => this.#refusedUploads.penalty(this.#key(address), 1));
	}

	/**
	 * Take `bytes` from this client's UPLOAD_BYTE_LIMIT, all or nothing: a refusal gives them
	 * straight back, so it costs the client nothing. Atomic in the store, so instances sharing
	 * it never let a client past its budget together. @throws StoreUnavailableError
	 */
	async takeUploadBytes(address: string, bytes: number): Promise<LimitDecision> {
		const limit = this.#config.uploadByteLimit;
		const key = this.#key(address);
		try {
			const result = await this.#uploadBytes.consume(key, bytes);
			return { ok: true, headers: headersFor(limit, result) };
		} catch (rejection) {
			if (!(rejection instanceof RateLimiterRes)) throw new StoreUnavailableError(rejection);
			const after = await this.#store(() => this.#uploadBytes.reward(key, bytes));
			const retryAfterSeconds = waitOf(rejection);
			return refuse('UPLOAD_BUDGET_EXCEEDED', {
				detail: `This address may send ${formatBytes(limit.points)} of files per ${formatSeconds(limit.durationSeconds)}; ${formatBytes(Math.max(0, after.remainingPoints))} are left until the budget renews in ${retryAfterSeconds} s. A smaller file may still fit.`,
				retryAfterSeconds,
				headers: headersFor(limit, after)
			});
		}
	}

	/** Give back bytes taken from UPLOAD_BYTE_LIMIT and never read. @throws StoreUnavailableError */
	async returnUploadBytes(address: string, bytes: number): Promise<void> {
		if (bytes > 0) await this.#store(() => this.#uploadBytes.reward(this.#key(address), bytes));
	}

	/** Run a limiter's store command, turning a failure into StoreUnavailableError. */
	async #store<T>(command: () => Promise<T>): Promise<T> {
		try {
			return await command();
		} catch (error) {
			throw new StoreUnavailableError(error);
		}
	}

	/** Count one lookup, found or not, against LOOKUP_RATE_LIMIT. @throws StoreUnavailableError */
	lookup(address: string): Promise<LimitDecision> {
		const limit = this.#config.lookupRateLimit;
		return this.#consume(this.#lookup, limit, address, tooMany('lookups'), 'lookup');
	}

	/** Count one malformed passphrase against MALFORMED_LIMIT. @throws StoreUnavailableError */
	malformed(address: string): Promise<LimitDecision> {
		return this.#consume(
			this.#malformed,
			MALFORMED_LIMIT,
			address,
			tooMany('malformed passphrases'),
			'malformed'
		);
	}

	/**
	 * Count one lookup against LOOKUP_RATE_LIMIT and read the brute-force block, both at once:
	 * the two commands share one round trip to the store instead of waiting for each other (a
	 * lookup by access key makes five or six; issue #11). Decided as when they ran one after
	 * the other: a refusal of the rate limit comes first (and only its metric counts), then the
	 * block. @throws StoreUnavailableError (fail closed)
	 */
	async lookupAndBlock(address: string): Promise<LimitDecision> {
		const [rate, current] = await Promise.all([this.lookup(address), this.#readBlock(address)]);
		if (!rate.ok) return rate;
		const block = this.#blockDecision(current);
		return block.ok ? rate : block;
	}

	/**
	 * Whether this client has used up DOWNLOAD_FAIL_LIMIT failed lookups: then it is blocked
	 * from every lookup route until DOWNLOAD_BLOCK_WINDOW has passed since its last failure.
	 * @throws StoreUnavailableError (fail closed: the caller refuses the lookup)
	 */
	async lookupBlock(address: string): Promise<LimitDecision> {
		return this.#blockDecision(await this.#readBlock(address));
	}

	async #readBlock(address: string): Promise<RateLimiterRes | null> {
		try {
			return await this.#failures.get(this.#key(address));
		} catch (error) {
			throw new StoreUnavailableError(error);
		}
	}

	#blockDecision(current: RateLimiterRes | null): LimitDecision {
		const limit = this.#failureLimit;
		if (current && current.consumedPoints >= limit.points) {
			const retryAfterSeconds = waitOf(current);
			this.#metrics.limitHit('failed_lookups');
			return refuse('TOO_MANY_FAILED_LOOKUPS', {
				detail: `Too many unknown passphrases from this address. It is blocked for ${Math.ceil(retryAfterSeconds / 60)} more minute(s).`,
				retryAfterSeconds,
				headers: headersFor(limit, current)
			});
		}
		return { ok: true, headers: {} };
	}

	/**
	 * Count one lookup of an unknown passphrase; answers how many more this address may try
	 * before it is blocked (0: this one started the block) and how long a block lasts, so the
	 * refusal can say so. Instances sharing the store count together; failures racing on
	 * other instances can make the real number a little lower. @throws StoreUnavailableError
	 */
	async recordLookupFailure(address: string): Promise<{ triesLeft: number; blockSeconds: number }> {
		const { points, durationSeconds } = this.#failureLimit;
		const key = this.#key(address);
		try {
			const result = await this.#failures.penalty(key, 1);
			// The block runs a full window from the failure that earned it, not from the first one.
			if (result.consumedPoints >= points) {
				await this.#failures.block(key, durationSeconds);
				this.#metrics.blockStarted(durationSeconds);
			}
			return {
				triesLeft: Math.max(0, points - result.consumedPoints),
				blockSeconds: durationSeconds
			};
		} catch (error) {
			throw new StoreUnavailableError(error);
		}
	}
}
