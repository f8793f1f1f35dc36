/**
 * Rate limits per client address, kept in the store so every instance shares them.
 *
 * Addresses never reach the store or the log in the clear: a limiter key is a keyed hash of
 * the address (see `clientKey`). When Redis is away, each limiter decides for itself what an
 * outage means; the health limiter falls back to this process's memory, because a monitor
 * must still be told that the service is degraded.
 */
import { createHmac } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RequestEvent } from '@sveltejs/kit';
import { getConfig, type RateLimit } from './config';
import { StoreUnavailableError, type MetadataStore } from './store';
import { RedisStore } from './store/redis';

export type LimitDecision =
	| { allowed: true; headers: Record<string, string> }
	| { allowed: false; retryAfterSeconds: number; headers: Record<string, string> };

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

type Limiters = { health: Limiter; upload: Limiter; failures: Limiter; malformed: Limiter };
let limiters: Limiters | undefined;

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

function failureLimit(): RateLimit {
	const { downloadFailLimit, downloadBlockWindowSeconds } = getConfig();
	return {
		points: downloadFailLimit,
		durationSeconds: downloadBlockWindowSeconds,
		text: `${downloadFailLimit}/${downloadBlockWindowSeconds} s`
	};
}

/** Build the limiters for this process's store (start-up). */
export function initLimits(store: MetadataStore): void {
	const config = getConfig();
	limiters = {
		health: createLimiter(store, 'health', config.healthRateLimit, 'memory'),
		upload: createLimiter(store, 'upload', config.uploadRateLimit, 'refuse'),
		failures: createLimiter(store, 'failures', failureLimit(), 'refuse'),
		malformed: createLimiter(store, 'malformed', MALFORMED_LIMIT, 'refuse')
	};
}

function use(): Limiters {
	if (!limiters) throw new Error('Rate limits are used before initLimits()');
	return limiters;
}

/**
 * The key a client's counters are kept under: an HMAC of its address, so a copy of Redis
 * does not list who used the service. Keyed with SERVER_SECRET when set; without it the
 * hash still hides addresses from a casual look, though IPv4 could be brute-forced.
 */
export function clientKey(address: string): string {
	const secret = getConfig().serverSecret ?? 'raven-zero/v1/client';
	return createHmac('sha256', secret).update(address).digest('base64url').slice(0, 22);
}

/**
 * The network a client is counted as: an IPv4 address as it is, an IPv6 address by its /64.
 * One IPv6 subscriber usually holds a whole /64 (2^64 addresses), so counting single IPv6
 * addresses would let one client spread its guesses over as many addresses as it likes.
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) count as the IPv4 address they carry.
 */
export function clientNetwork(address: string): string {
	if (!ipaddr.IPv6.isValid(address)) return address;
	const parsed = ipaddr.IPv6.parse(address);
	if (parsed.isIPv4MappedAddress()) return parsed.toIPv4Address().toString();
	const prefix = parsed.parts.slice(0, 4).map((part) => part.toString(16));
	return `${prefix.join(':')}::/64`;
}

/**
 * Who a request counts as, for every limit and for the lookup gate: the network (see
 * `clientNetwork`) of the address adapter-node sees (ADDRESS_HEADER/XFF_DEPTH when configured).
 */
export function clientAddress(event: RequestEvent): string {
	try {
		return clientNetwork(event.getClientAddress());
	} catch {
		// Only in unusual hosts without an address; they share one bucket.
		return 'unknown';
	}
}

function headersFor(limit: RateLimit, result: RateLimiterRes): Record<string, string> {
	return {
		'RateLimit-Limit': String(limit.points),
		'RateLimit-Remaining': String(Math.max(0, result.remainingPoints)),
		'RateLimit-Reset': String(Math.ceil(result.msBeforeNext / 1000))
	};
}

async function consume(
	limiter: Limiter | undefined,
	limit: RateLimit,
	key: string
): Promise<LimitDecision> {
	if (!limiter) throw new Error('Rate limits are used before initLimits()');
	try {
		const result = await limiter.consume(key);
		return { allowed: true, headers: headersFor(limit, result) };
	} catch (rejection) {
		if (rejection instanceof RateLimiterRes) {
			const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
			return {
				allowed: false,
				retryAfterSeconds,
				headers: { ...headersFor(limit, rejection), 'Retry-After': String(retryAfterSeconds) }
			};
		}
		throw new StoreUnavailableError(rejection);
	}
}

/** Count one health check for this client against HEALTH_RATE_LIMIT. */
export function limitHealthCheck(address: string): Promise<LimitDecision> {
	return consume(use().health, getConfig().healthRateLimit, clientKey(address));
}

/** Count one upload attempt against UPLOAD_RATE_LIMIT. @throws StoreUnavailableError */
export function limitUpload(address: string): Promise<LimitDecision> {
	return consume(use().upload, getConfig().uploadRateLimit, clientKey(address));
}

/** Count one malformed passphrase against MALFORMED_LIMIT. @throws StoreUnavailableError */
export function limitMalformed(address: string): Promise<LimitDecision> {
	return consume(use().malformed, MALFORMED_LIMIT, clientKey(address));
}

/**
 * Whether this client has used up DOWNLOAD_FAIL_LIMIT failed lookups: then it is blocked
 * from every lookup route until DOWNLOAD_BLOCK_WINDOW has passed since its first failure.
 * @throws StoreUnavailableError (fail closed: the caller refuses the lookup)
 */
export async function checkLookupBlock(address: string): Promise<LimitDecision> {
	const limit = failureLimit();
	let current: RateLimiterRes | null;
	try {
		current = await use().failures.get(clientKey(address));
	} catch (error) {
		throw new StoreUnavailableError(error);
	}
	if (current && current.consumedPoints >= limit.points) {
		const retryAfterSeconds = Math.max(1, Math.ceil(current.msBeforeNext / 1000));
		return {
			allowed: false,
			retryAfterSeconds,
			headers: { ...headersFor(limit, current), 'Retry-After': String(retryAfterSeconds) }
		};
	}
	return { allowed: true, headers: {} };
}

/** What a client blocked by the brute-force limit is told. */
export function lookupBlockedDetail(retryAfterSeconds: number): string {
	return `Too many unknown passphrases from this address. It is blocked for ${Math.ceil(retryAfterSeconds / 60)} more minute(s).`;
}

/** Count one lookup of an unknown passphrase. @throws StoreUnavailableError */
export async function recordLookupFailure(address: string): Promise<void> {
	const { points, durationSeconds } = failureLimit();
	const key = clientKey(address);
	try {
		const result = await use().failures.penalty(key, 1);
		// The block runs a full window from the failure that earned it, not from the first one.
		if (result.consumedPoints >= points) await use().failures.block(key, durationSeconds);
	} catch (error) {
		throw new StoreUnavailableError(error);
	}
}
