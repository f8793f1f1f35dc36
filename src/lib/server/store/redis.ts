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
import {
	StoreUnavailableError,
	type BurnOutcome,
	type DropLookup,
	type DropRecord,
	type GoneState,
	type MetadataStore,
	type NewDrop,
	type PreviewClaim,
	type StoreState,
	type UseClaim
} from './types';

const KEY_PREFIX = 'rz:';
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Delete the lock only when it still holds our token: never free someone else's lock. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`;

/*
 * The drop scripts. Keys of one drop: drop:<id> (hash: meta, expires_at, uses_left, previewed,
 * tomb_until; expires at expires_at), tomb:<id> ("expired" from creation, "burned" after the
 * last use), reserve:<id> (an upload in progress), readers:<id> (downloads still streaming).
 * Each script runs atomically, so uses are counted exactly once across every instance.
 */
const GONE = `local tomb = redis.call('GET', KEYS[2])
if tomb then return {tomb} end
return {'unknown'}`;

const SCRIPTS = {
	rzReserve: {
		numberOfKeys: 3,
		lua: `if redis.call('EXISTS', KEYS[1], KEYS[2], KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[1])
return 1`
	},
	// Extend only our own reservation; PEXPIRE never recreates one that lapsed or was released.
	rzRefreshReservation: {
		numberOfKeys: 1,
		lua: `if redis.call('GET', KEYS[1]) ~= ARGV[2] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[1])`
	},
	rzCreate: {
		numberOfKeys: 3,
		lua: `if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'expires_at', ARGV[2], 'uses_left', ARGV[3], 'previewed', '0', 'tomb_until', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], 'expired', 'PXAT', ARGV[4])
redis.call('DEL', KEYS[3])
return 1`
	},
	rzRead: {
		numberOfKeys: 2,
		lua: `local f = redis.call('HMGET', KEYS[1], 'meta', 'expires_at', 'uses_left', 'previewed')
if not f[1] then ${GONE} end
return {'active', f[1], f[2], f[3], f[4]}`
	},
	rzClaimUse: {
		numberOfKeys: 3,
		lua: `local f = redis.call('HMGET', KEYS[1], 'meta', 'expires_at', 'uses_left', 'previewed', 'tomb_until')
if not f[1] then ${GONE} end
local left = tonumber(f[3]) - 1
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
if left <= 0 then
	left = 0
	redis.call('DEL', KEYS[1])
	local now = redis.call('TIME')
	local until_ms = math.max(tonumber(f[5]), tonumber(now[1]) * 1000 + 1000)
	redis.call('SET', KEYS[2], 'burned', 'PXAT', until_ms)
else
	redis.call('HSET', KEYS[1], 'uses_left', left)
end
return {'claimed', f[1], f[2], tostring(left), f[4]}`
	},
	rzBurn: {
		numberOfKeys: 2,
		lua: `local tomb_until = redis.call('HGET', KEYS[1], 'tomb_until')
if not tomb_until then ${GONE} end
redis.call('DEL', KEYS[1])
local now = redis.call('TIME')
local until_ms = math.max(tonumber(tomb_until), tonumber(now[1]) * 1000 + 1000)
redis.call('SET', KEYS[2], 'burned', 'PXAT', until_ms)
return {'destroyed'}`
	},
	rzClaimPreview: {
		numberOfKeys: 2,
		lua: `local f = redis.call('HMGET', KEYS[1], 'meta', 'expires_at', 'uses_left', 'previewed')
if not f[1] then ${GONE} end
if f[4] == '1' then return {'already_previewed'} end
redis.call('HSET', KEYS[1], 'previewed', '1')
return {'claimed', f[1], f[2], f[3], '1'}`
	},
	rzReleaseReader: {
		numberOfKeys: 1,
		lua: `local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) return 0 end
return left`
	}
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ScriptReply = (string | null)[];

function recordFrom(reply: ScriptReply): DropRecord {
	return {
		meta: reply[1]!,
		expiresAt: Number(reply[2]),
		usesLeft: Number(reply[3]),
		previewed: reply[4] === '1'
	};
}

function goneFrom(reply: ScriptReply): { state: GoneState } {
	const state = reply[0];
	return { state: state === 'burned' || state === 'expired' ? state : 'unknown' };
}

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
		for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) {
			this.client.defineCommand(name, { numberOfKeys, lua });
		}
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

	/** Run one of SCRIPTS (EVALSHA, loaded on first use by ioredis). */
	#script<T = ScriptReply>(name: ScriptName, ...args: (string | number)[]): Promise<T> {
		const command = (
			this.client as unknown as Record<ScriptName, (...a: (string | number)[]) => Promise<T>>
		)[name];
		return this.#run(() => command.apply(this.client, args));
	}

	async reserveId(id: string, ttlMs: number, owner = '1'): Promise<boolean> {
		return (
			(await this.#script<number>(
				'rzReserve',
				`drop:${id}`,
				`tomb:${id}`,
				`reserve:${id}`,
				ttlMs,
				owner
			)) === 1
		);
	}

	async refreshReservation(id: string, ttlMs: number, owner = '1'): Promise<boolean> {
		return (
			(await this.#script<number>('rzRefreshReservation', `reserve:${id}`, ttlMs, owner)) === 1
		);
	}

	async reservationOwner(id: string): Promise<string | undefined> {
		return (await this.#run(() => this.client.get(`reserve:${id}`))) ?? undefined;
	}

	async releaseReservation(id: string): Promise<void> {
		await this.#run(() => this.client.del(`reserve:${id}`));
	}

	async createDrop(id: string, drop: NewDrop): Promise<boolean> {
		const created = await this.#script<number>(
			'rzCreate',
			`drop:${id}`,
			`tomb:${id}`,
			`reserve:${id}`,
			drop.meta,
			drop.expiresAt,
			drop.uses,
			drop.tombstoneUntil
		);
		return created === 1;
	}

	async readDrop(id: string): Promise<DropLookup> {
		const reply = await this.#script('rzRead', `drop:${id}`, `tomb:${id}`);
		return reply[0] === 'active' ? { state: 'active', record: recordFrom(reply) } : goneFrom(reply);
	}

	async claimUse(id: string, readerTtlMs: number): Promise<UseClaim> {
		const reply = await this.#script(
			'rzClaimUse',
			`drop:${id}`,
			`tomb:${id}`,
			`readers:${id}`,
			readerTtlMs
		);
		return reply[0] === 'claimed'
			? { state: 'claimed', record: recordFrom(reply) }
			: goneFrom(reply);
	}

	async burnDrop(id: string): Promise<BurnOutcome> {
		const reply = await this.#script('rzBurn', `drop:${id}`, `tomb:${id}`);
		return reply[0] === 'destroyed' ? { state: 'destroyed' } : goneFrom(reply);
	}

	async claimPreview(id: string): Promise<PreviewClaim> {
		const reply = await this.#script('rzClaimPreview', `drop:${id}`, `tomb:${id}`);
		if (reply[0] === 'claimed') return { state: 'claimed', record: recordFrom(reply) };
		if (reply[0] === 'already_previewed') return { state: 'already_previewed' };
		return goneFrom(reply);
	}

	async refreshReader(id: string, ttlMs: number): Promise<boolean> {
		// One command, so atomic: PEXPIRE answers 0 and creates nothing when the mark is gone.
		return (await this.#run(() => this.client.pexpire(`readers:${id}`, ttlMs))) === 1;
	}

	async releaseReader(id: string): Promise<number> {
		return this.#script<number>('rzReleaseReader', `readers:${id}`);
	}

	async isFileNeeded(id: string): Promise<boolean> {
		const count = await this.#run(() =>
			this.client.exists(`drop:${id}`, `reserve:${id}`, `readers:${id}`)
		);
		return count > 0;
	}

	async close(): Promise<void> {
		try {
			await this.client.quit();
		} catch {
			this.client.disconnect();
		}
	}
}
