/**
 * The metadata store: what the service keeps between requests, behind one interface with two
 * implementations. Redis/Valkey (redis.ts) is shared by any number of instances; the
 * in-process store (memory.ts) needs no set-up but serves one instance only. Both pass the
 * same contract tests (tests/unit/store-contract.test.ts).
 *
 * Failures of the backing service throw StoreUnavailableError, which routes turn into 503.
 */

/** How health reports the store: Redis reachable, unreachable, or the in-process store. */
export type StoreState = 'online' | 'offline' | 'embedded';

export interface MetadataStore {
	/** `redis` or `memory`; the kind decides how limits and locks are shared. */
	readonly kind: 'redis' | 'memory';
	/**
	 * Wait until the store can serve commands, up to `timeoutMs`. Resolves false on time-out;
	 * the service then starts degraded and recovers when the store appears.
	 */
	ready(timeoutMs: number): Promise<boolean>;
	/** Resolves `online`/`embedded` when usable, `offline` when not; never throws, never hangs. */
	ping(): Promise<StoreState>;
	/** Record that the named job ran at `at` (ms since epoch); kept for `ttlMs`. */
	recordHeartbeat(name: string, at: number, ttlMs: number): Promise<void>;
	/** When the named job last ran (ms since epoch), or undefined when it never did or expired. */
	readHeartbeat(name: string): Promise<number | undefined>;
	/**
	 * Take the named lock for `ttlMs` unless someone holds it. Resolves a token to release it
	 * with, or undefined when it is taken. The TTL frees it if the holder dies.
	 */
	acquireLock(name: string, ttlMs: number): Promise<string | undefined>;
	/** Release the lock only if `token` still holds it (a lock that expired is not stolen back). */
	releaseLock(name: string, token: string): Promise<void>;
	/** Close connections; the store is unusable afterwards. */
	close(): Promise<void>;
}

/** The backing service cannot be reached or did not answer in time. */
export class StoreUnavailableError extends Error {
	override name = 'StoreUnavailableError';
	constructor(cause: unknown) {
		super('The metadata store is unavailable', { cause });
	}
}
