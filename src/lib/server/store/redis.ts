/**
 * The Redis/Valkey store, shared by every instance that points at the same server.
 *
 * Connection policy, chosen so an outage is a fast 503 and never a hang: commands are not
 * queued while disconnected (`enableOfflineQueue: false`), each command has a deadline, and
 * ioredis keeps reconnecting in the background, so the service recovers by itself within
 * about two seconds of Redis returning.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { StoreUnavailableError, type MetadataStore, type StoreState } from './types';

const KEY_PREFIX = 'rz:';
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Delete the lock only when it still holds our token: never free someone else's lock. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`;

export type RedisStoreOptions = {
	/** Called when the connection is lost or comes back, for the log. */
	onConnectionChange?: (state: 'connected' | 'disconnected', error?: Error) => void;
};

export class RedisStore implements MetadataStore {
	readonly kind = 'redis';
	/** Exposed for rate-limiter-flexible, which keeps its counters on the same connection. */
	readonly client: Redis;

	constructor(url: string, options: RedisStoreOptions = {}) {
		this.client = new Redis(url, {
			keyPrefix: KEY_PREFIX,
			enableOfflineQueue: false,
			maxRetriesPerRequest: 1,
			commandTimeout: COMMAND_TIMEOUT_MS,
			connectTimeout: COMMAND_TIMEOUT_MS,
			retryStrategy: (attempt) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS),
			lazyConnect: false
		});
		let connected = false;
		this.client.on('ready', () => {
			connected = true;
			options.onConnectionChange?.('connected');
		});
		// ioredis emits `error` on every failed reconnect; report only the transition.
		this.client.on('error', (error: Error) => {
			if (connected) options.onConnectionChange?.('disconnected', error);
			connected = false;
		});
		this.client.on('end', () => {
			connected = false;
		});
	}

	/** Run one command, turning connection trouble into StoreUnavailableError. */
	async #run<T>(command: () => Promise<T>): Promise<T> {
		try {
			return await command();
		} catch (error) {
			throw new StoreUnavailableError(error);
		}
	}

	async ready(timeoutMs: number): Promise<boolean> {
		if (this.client.status === 'ready') return true;
		return new Promise((resolve) => {
			const onReady = () => {
				clearTimeout(timer);
				resolve(true);
			};
			const timer = setTimeout(() => {
				this.client.off('ready', onReady);
				resolve(false);
			}, timeoutMs);
			this.client.once('ready', onReady);
		});
	}

	async ping(): Promise<StoreState> {
		if (this.client.status !== 'ready') return 'offline';
		try {
			return (await this.client.ping()) === 'PONG' ? 'online' : 'offline';
		} catch {
			return 'offline';
		}
	}

	async recordHeartbeat(name: string, at: number, ttlMs: number): Promise<void> {
		await this.#run(() => this.client.set(`heartbeat:${name}`, String(at), 'PX', ttlMs));
	}

	async readHeartbeat(name: string): Promise<number | undefined> {
		const value = await this.#run(() => this.client.get(`heartbeat:${name}`));
		return value === null ? undefined : Number(value);
	}

	async acquireLock(name: string, ttlMs: number): Promise<string | undefined> {
		const token = randomUUID();
		const result = await this.#run(() => this.client.set(`lock:${name}`, token, 'PX', ttlMs, 'NX'));
		return result === 'OK' ? token : undefined;
	}

	async releaseLock(name: string, token: string): Promise<void> {
		await this.#run(() => this.client.eval(RELEASE_LOCK, 1, `lock:${name}`, token));
	}

	async close(): Promise<void> {
		try {
			await this.client.quit();
		} catch {
			this.client.disconnect();
		}
	}
}
