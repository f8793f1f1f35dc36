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
import type { RequestEvent } from '@sveltejs/kit';
import { getConfig, type RateLimit } from './config';
import type { MetadataStore } from './store';
import { RedisStore } from './store/redis';

export type LimitDecision =
	| { allowed: true; headers: Record<string, string> }
	| { allowed: false; retryAfterSeconds: number; headers: Record<string, string> };

type Limiter = RateLimiterMemory | RateLimiterRedis;

let healthLimiter: Limiter | undefined;

function createLimiter(store: MetadataStore, name: string, limit: RateLimit): Limiter {
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
			insuranceLimiter: new RateLimiterMemory(options)
		});
	}
	return new RateLimiterMemory(options);
}

/** Build the limiters for this process's store (start-up). */
export function initLimits(store: MetadataStore): void {
	healthLimiter = createLimiter(store, 'health', getConfig().healthRateLimit);
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

/** The client's address as adapter-node sees it (ADDRESS_HEADER/XFF_DEPTH when configured). */
export function clientAddress(event: RequestEvent): string {
	try {
		return event.getClientAddress();
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
		throw rejection;
	}
}

/** Count one health check for this client against HEALTH_RATE_LIMIT. */
export function limitHealthCheck(address: string): Promise<LimitDecision> {
	return consume(healthLimiter, getConfig().healthRateLimit, clientKey(address));
}
