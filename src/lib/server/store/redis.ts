/**
 * The Redis/Valkey store, shared by every instance that points at the same server: one
 * Redis (REDIS_URL), a primary found through Redis Sentinel (REDIS_SENTINELS), or a Redis
 * Cluster (REDIS_CLUSTER_NODES).
 *
 * Connection policy, chosen so an outage is a fast 503 and never a hang: commands are not
 * queued while disconnected (`enableOfflineQueue: false`), each command has a deadline, and
 * ioredis keeps reconnecting in the background, so the service recovers by itself within
 * about two seconds of Redis returning (or of the sentinels naming a new primary).
 *
 * Cluster: every script and multi-key command names only the keys of one drop, and those
 * share the hash tag `{<id>}`, so they live in one slot (Redis refuses a script whose keys
 * span slots with CROSSSLOT). Everything else (quota hash, locks, heartbeats, rate-limit
 * counters) is one key per command.
 *
 * Sentinel: an upload's record is promised (201) only once every replica acknowledged it
 * (`WAIT`, see replicas.ts), so that a failover cannot throw it away.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { nodeName, ReplicaExpectation, WAIT_TIMEOUT_MS } from './replicas';
import {
	StoreUnavailableError,
	type BurnOutcome,
	type DropLookup,
	type DropRecord,
	type GoneState,
	type MetadataStore,
	type NewDrop,
	type PreviewClaim,
	type QuotaHoldResult,
	type QuotaLimits,
	type QuotaUsage,
	type StoreState,
	type UseClaim
} from './types';

const KEY_PREFIX = 'rz:';
/** The storage quota's one hash (see rzQuotaHold). */
const QUOTA_KEY = 'quota';

/** A limit as Lua reads it: Infinity (no limit) as the largest exact integer. */
const luaLimit = (limit: number) => (Number.isFinite(limit) ? limit : Number.MAX_SAFE_INTEGER);
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_RECONNECT_DELAY_MS = 2_000;

/** Delete the lock only when it still holds our token: never free someone else's lock. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`;

/*
 * The drop scripts. Keys of one drop (after the `rz:` prefix): {<id>}:drop (hash: meta,
 * expires_at, uses_left, previewed, tomb_until; expires at expires_at), {<id>}:tomb
 * ("expired" from creation, "burned" after the last use), {<id>}:reserve (an upload in
 * progress), {<id>}:readers (downloads still streaming). Each script runs atomically, so
 * uses are counted exactly once across every instance.
 */

/**
 * The keys of one drop. The hash tag `{<id>}` puts them in one Cluster slot (Redis hashes
 * only what is between the first braces); ids are hex, so they never hold a brace.
 */
function dropKeys(id: string) {
	return {
		drop: `{${id}}:drop`,
		tomb: `{${id}}:tomb`,
		reserve: `{${id}}:reserve`,
		readers: `{${id}}:readers`
	};
}
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
if tonumber(ARGV[2]) > 1 and tonumber(f[3]) <= 1 then return {'last_use_withheld'} end
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
	// The storage quota, all in one hash (quota.ts): 'bytes' and 'drops' are the running
	// totals, 'h:<id>' each hold. One key, so each script stays in one Cluster slot.
	rzQuotaHold: {
		numberOfKeys: 1,
		lua: `local field = 'h:' .. ARGV[1]
local bytes = tonumber(ARGV[2])
local held = redis.call('HEXISTS', KEYS[1], field) == 1
local totals = redis.call('HMGET', KEYS[1], 'bytes', 'drops')
if not held and tonumber(totals[2] or '0') + 1 > tonumber(ARGV[4]) then return 'drops' end
if tonumber(totals[1] or '0') + bytes > tonumber(ARGV[3]) then return 'bytes' end
redis.call('HINCRBY', KEYS[1], field, ARGV[2])
redis.call('HINCRBY', KEYS[1], 'bytes', ARGV[2])
if not held then redis.call('HINCRBY', KEYS[1], 'drops', 1) end
return 'held'`
	},
	rzQuotaSettle: {
		numberOfKeys: 1,
		lua: `local field = 'h:' .. ARGV[1]
local held = redis.call('HGET', KEYS[1], field)
if not held then return 0 end
redis.call('HSET', KEYS[1], field, ARGV[2])
redis.call('HINCRBY', KEYS[1], 'bytes', string.format('%d', tonumber(ARGV[2]) - tonumber(held)))
return 1`
	},
	rzQuotaRelease: {
		numberOfKeys: 1,
		lua: `local field = 'h:' .. ARGV[1]
local held = redis.call('HGET', KEYS[1], field)
if not held then return 0 end
redis.call('HDEL', KEYS[1], field)
redis.call('HINCRBY', KEYS[1], 'bytes', string.format('%d', -tonumber(held)))
redis.call('HINCRBY', KEYS[1], 'drops', -1)
return tonumber(held)`
	},
	// O(holds), once a minute from the sweep: at MAX_LIVE_DROPS' default, about 10,000 fields.
	rzQuotaReconcile: {
		numberOfKeys: 1,
		lua: `local all = redis.call('HGETALL', KEYS[1])
local bytes, drops = 0, 0
for i = 1, #all, 2 do
	if string.sub(all[i], 1, 2) == 'h:' then
		bytes = bytes + tonumber(all[i + 1])
		drops = drops + 1
	end
end
redis.call('HSET', KEYS[1], 'bytes', string.format('%d', bytes), 'drops', drops)
return {bytes, drops}`
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
	/** Sentinel: an upload's record missed its replicas' acknowledgement (answered 503). */
	onUnacknowledged?: (detail: { acknowledged: number; needed: number; role: string }) => void;
	/** ioredis had given up (status `end`) and the store started it again. */
	onRestart?: () => void;
};

export type HostPort = { readonly host: string; readonly port: number };

/** How to reach Redis: a URL, sentinels that name the primary, or seed nodes of a cluster. */
export type RedisConnection =
	| { kind: 'url'; url: string }
	| { kind: 'sentinel'; sentinels: readonly HostPort[]; name: string; password?: string }
	| { kind: 'cluster'; nodes: readonly HostPort[]; password?: string };

const reconnectDelay = (attempt: number) => Math.min(attempt * 200, MAX_RECONNECT_DELAY_MS);

/** The node a (non-cluster) client is connected to now, as `host:port`. */
function nodeOf(client: Redis): string {
	return nodeName(client.stream?.remoteAddress, client.stream?.remotePort);
}

/** What every connection to a Redis node gets (see the connection policy above). */
const NODE_OPTIONS = {
	maxRetriesPerRequest: 1,
	// A command sent but not answered when the connection broke fails (a 503) rather than
	// being sent again after the reconnect: a second run of an upload's create would find its
	// own record and fail that upload after the fact, and a second claim would take a use twice.
	autoResendUnfulfilledCommands: false,
	commandTimeout: COMMAND_TIMEOUT_MS,
	connectTimeout: COMMAND_TIMEOUT_MS
} satisfies RedisOptions;

function connect(connection: RedisConnection): Redis | Cluster {
	switch (connection.kind) {
		case 'url':
			return new Redis(connection.url, {
				...NODE_OPTIONS,
				keyPrefix: KEY_PREFIX,
				enableOfflineQueue: false,
				retryStrategy: reconnectDelay,
				lazyConnect: false
			});
		case 'sentinel':
			return new Redis({
				...NODE_OPTIONS,
				sentinels: connection.sentinels.map(({ host, port }) => ({ host, port })),
				name: connection.name,
				password: connection.password,
				keyPrefix: KEY_PREFIX,
				enableOfflineQueue: false,
				retryStrategy: reconnectDelay,
				// When no sentinel answers, keep asking (ioredis' default gives up after a while).
				sentinelRetryStrategy: reconnectDelay,
				sentinelCommandTimeout: COMMAND_TIMEOUT_MS,
				// Hear of a failover from the sentinels (+switch-master) rather than only when
				// the old primary's connection breaks.
				failoverDetector: true,
				// A client still on a demoted primary gets READONLY: reconnect through the
				// sentinels (to the new primary) instead of failing every write until then.
				reconnectOnError: (error) => error.message.startsWith('READONLY'),
				lazyConnect: false
			});
		case 'cluster':
			return new Cluster(
				connection.nodes.map(({ host, port }) => ({ host, port })),
				{
					keyPrefix: KEY_PREFIX,
					enableOfflineQueue: false,
					clusterRetryStrategy: reconnectDelay,
					redisOptions: { ...NODE_OPTIONS, password: connection.password },
					lazyConnect: false
				}
			);
	}
}

export class RedisStore implements MetadataStore {
	readonly kind = 'redis';
	/** Exposed for rate-limiter-flexible, which keeps its counters on the same connection. */
	readonly client: Redis | Cluster;

	/** @param connection a redis:// URL, or how to reach Redis (see RedisConnection). */
	/** Sentinel only: how many replicas an upload's record must reach (replicas.ts). */
	readonly #replicas: ReplicaExpectation | undefined;
	/**
	 * Sentinel only: the connection that uploads commit on. WAIT holds up the connection it is
	 * sent on until the replicas answer (up to WAIT_TIMEOUT_MS when one is slow or gone), so
	 * it must not be the one every lookup, claim and rate-limit counter shares; and WAIT counts
	 * the writes of its own connection, so the create goes there too.
	 */
	readonly #commits: Redis | undefined;
	readonly #options: RedisStoreOptions;
	/** Counts the commit connection's connections (each `ready`): WAIT counts its own writes. */
	#connections = 0;
	#closing = false;

	constructor(connection: string | RedisConnection, options: RedisStoreOptions = {}) {
		this.#options = options;
		const how: RedisConnection =
			typeof connection === 'string' ? { kind: 'url', url: connection } : connection;
		this.client = connect(how);
		for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) {
			this.client.defineCommand(name, { numberOfKeys, lua });
		}
		if (how.kind === 'sentinel') {
			const commits = connect(how) as Redis;
			commits.defineCommand('rzCreate', SCRIPTS.rzCreate);
			this.#commits = commits;
			this.#replicas = new ReplicaExpectation(how.sentinels, how.name, (node) => {
				// The sentinels name another primary: reconnect through them now rather than
				// wait for READONLY. Only from `ready`: a disconnect while ioredis is asking the
				// sentinels ends the client (see the `end` handler below).
				for (const client of [this.client as Redis, commits]) {
					if (client.status === 'ready' && nodeOf(client) === node) client.disconnect(true);
				}
			});
			commits.on('ready', () => {
				this.#connections++;
				// Learn how many replicas this primary has before its first upload commits.
				void this.#observeReplicas(commits).catch(() => undefined);
			});
			// Its trouble is the main connection's too, which reports it (onConnectionChange).
			commits.on('error', () => undefined);
			this.#restartWhenEnded(commits);
		}
		let connected = false;
		this.client.on('ready', () => {
			connected = true;
			options.onConnectionChange?.('connected');
		});
		// ioredis emits `error` on every failed reconnect; report only the transition. A
		// cluster reports a node it lost as `node error`.
		const onError = (error: Error) => {
			if (connected) options.onConnectionChange?.('disconnected', error);
			connected = false;
		};
		this.client.on('error', onError);
		this.client.on('node error', onError);
		this.client.on('end', () => {
			connected = false;
		});
		if (!(this.client instanceof Cluster)) this.#restartWhenEnded(this.client);
	}

	/**
	 * ioredis (6.0) can end itself although its retry strategies never give up: its sentinel
	 * connector throws "Connection is closed" when it is disconnected while still asking the
	 * sentinels (a +switch-master landing then), and the status stays `end`. After a SIGKILLed
	 * primary this happened in nearly every test run, and uploads never recovered. Only
	 * close() may end a client of ours: start it again.
	 */
	#restartWhenEnded(client: Redis): void {
		client.on('end', () => {
			if (this.#closing) return;
			setTimeout(() => {
				if (!this.#closing && client.status === 'end') {
					this.#options.onRestart?.();
					client.connect().catch(() => undefined);
				}
			}, reconnectDelay(1)).unref();
		});
	}

	/** Record how many replicas the primary shows (ROLE); resolves that count. */
	async #observeReplicas(client: Redis): Promise<number> {
		const node = nodeOf(client);
		const role = (await client.call('ROLE')) as unknown[];
		const connected = Array.isArray(role[2]) ? role[2].length : 0;
		this.#replicas?.observe(node, connected);
		return connected;
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
		const keys = dropKeys(id);
		return (
			(await this.#script<number>(
				'rzReserve',
				keys.drop,
				keys.tomb,
				keys.reserve,
				ttlMs,
				owner
			)) === 1
		);
	}

	async refreshReservation(id: string, ttlMs: number, owner = '1'): Promise<boolean> {
		return (
			(await this.#script<number>('rzRefreshReservation', dropKeys(id).reserve, ttlMs, owner)) === 1
		);
	}

	async reservationOwner(id: string): Promise<string | undefined> {
		return (await this.#run(() => this.client.get(dropKeys(id).reserve))) ?? undefined;
	}

	async releaseReservation(id: string): Promise<void> {
		await this.#run(() => this.client.del(dropKeys(id).reserve));
	}

	async createDrop(id: string, drop: NewDrop): Promise<boolean> {
		const keys = dropKeys(id);
		const args = [
			keys.drop,
			keys.tomb,
			keys.reserve,
			drop.meta,
			drop.expiresAt,
			drop.uses,
			drop.tombstoneUntil
		] as const;
		if (this.#replicas && this.#commits) {
			return this.#createAcknowledged(this.#replicas, this.#commits, id, args);
		}
		return (await this.#script<number>('rzCreate', ...args)) === 1;
	}

	/**
	 * Sentinel: create the record, and promise it only once the replicas have it. One round
	 * trip: the script, ROLE (is this node still the primary, and how many replicas does it
	 * have) and WAIT, pipelined on the one connection (WAIT counts this connection's writes).
	 * A record that is not acknowledged is removed again if the node still takes writes, and
	 * the upload fails with StoreUnavailableError (503): its file is removed by the caller.
	 */
	async #createAcknowledged(
		replicas: ReplicaExpectation,
		commits: Redis,
		id: string,
		args: readonly (string | number)[]
	): Promise<boolean> {
		const node = nodeOf(commits);
		const connection = this.#connections;
		const expected = replicas.expected(node);
		const pipeline = commits.pipeline() as unknown as {
			rzCreate(...a: (string | number)[]): unknown;
			role(): unknown;
			wait(replicas: number, timeoutMs: number): unknown;
			exec(): Promise<[Error | null, unknown][] | null>;
		};
		pipeline.rzCreate(...args);
		pipeline.role();
		pipeline.wait(expected, WAIT_TIMEOUT_MS);
		const replies = await this.#run(async () => {
			const results = await pipeline.exec();
			if (!results) throw new Error('The pipeline was not run');
			for (const [error] of results) if (error) throw error;
			return results.map(([, reply]) => reply);
		});
		if (replies[0] !== 1) return false; // an existing record: nothing was written
		const role = replies[1] as unknown[];
		const connected = Array.isArray(role[2]) ? role[2].length : 0;
		let acknowledged = Number(replies[2]);
		replicas.observe(node, connected);
		const needed = Math.max(expected, connected);
		// The node has more replicas than we waited for (the first upload after connecting,
		// or a replica that joined): wait for them too, one more round trip. Only on the same
		// connection: on a new one WAIT would count no write of ours and answer at once.
		if (role[0] === 'master' && acknowledged < needed && this.#connections === connection) {
			acknowledged = await this.#run(() => commits.wait(needed, WAIT_TIMEOUT_MS));
		}
		if (role[0] === 'master' && acknowledged >= needed) return true;
		replicas.recheck(node, connected);
		this.#options.onUnacknowledged?.({ acknowledged, needed, role: String(role[0]) });
		const keys = dropKeys(id);
		await this.#run(() => commits.del(keys.drop, keys.tomb)).catch(() => undefined);
		throw new StoreUnavailableError(
			new Error(
				`The record reached ${acknowledged} of ${needed} replicas (role ${String(role[0])})`
			)
		);
	}

	async readDrop(id: string): Promise<DropLookup> {
		const keys = dropKeys(id);
		const reply = await this.#script('rzRead', keys.drop, keys.tomb);
		return reply[0] === 'active' ? { state: 'active', record: recordFrom(reply) } : goneFrom(reply);
	}

	async claimUse(id: string, readerTtlMs: number, usesShown?: number): Promise<UseClaim> {
		const keys = dropKeys(id);
		const reply = await this.#script(
			'rzClaimUse',
			keys.drop,
			keys.tomb,
			keys.readers,
			readerTtlMs,
			// 0: no page count to respect (any count of 1 or less withholds nothing).
			usesShown ?? 0
		);
		if (reply[0] === 'claimed') return { state: 'claimed', record: recordFrom(reply) };
		if (reply[0] === 'last_use_withheld') return { state: 'last_use_withheld' };
		return goneFrom(reply);
	}

	async burnDrop(id: string): Promise<BurnOutcome> {
		const keys = dropKeys(id);
		const reply = await this.#script('rzBurn', keys.drop, keys.tomb);
		return reply[0] === 'destroyed' ? { state: 'destroyed' } : goneFrom(reply);
	}

	async claimPreview(id: string): Promise<PreviewClaim> {
		const keys = dropKeys(id);
		const reply = await this.#script('rzClaimPreview', keys.drop, keys.tomb);
		if (reply[0] === 'claimed') return { state: 'claimed', record: recordFrom(reply) };
		if (reply[0] === 'already_previewed') return { state: 'already_previewed' };
		return goneFrom(reply);
	}

	async refreshReader(id: string, ttlMs: number): Promise<boolean> {
		// One command, so atomic: PEXPIRE answers 0 and creates nothing when the mark is gone.
		return (await this.#run(() => this.client.pexpire(dropKeys(id).readers, ttlMs))) === 1;
	}

	async releaseReader(id: string): Promise<number> {
		return this.#script<number>('rzReleaseReader', dropKeys(id).readers);
	}

	async isFileNeeded(id: string): Promise<boolean> {
		const keys = dropKeys(id);
		const count = await this.#run(() => this.client.exists(keys.drop, keys.reserve, keys.readers));
		return count > 0;
	}

	async holdQuota(id: string, bytes: number, limits: QuotaLimits): Promise<QuotaHoldResult> {
		const reply = await this.#script<string>(
			'rzQuotaHold',
			QUOTA_KEY,
			id,
			bytes,
			luaLimit(limits.maxBytes),
			luaLimit(limits.maxDrops)
		);
		return reply === 'bytes' || reply === 'drops' ? reply : 'held';
	}

	async settleQuota(id: string, bytes: number): Promise<void> {
		await this.#script<number>('rzQuotaSettle', QUOTA_KEY, id, bytes);
	}

	async releaseQuota(id: string): Promise<number> {
		return this.#script<number>('rzQuotaRelease', QUOTA_KEY, id);
	}

	async quotaUsage(): Promise<QuotaUsage> {
		const [bytes, drops] = await this.#run(() => this.client.hmget(QUOTA_KEY, 'bytes', 'drops'));
		return { bytes: Number(bytes ?? 0), drops: Number(drops ?? 0) };
	}

	async listQuotaHolds(): Promise<string[]> {
		const ids: string[] = [];
		let cursor = '0';
		do {
			const [next, entries] = await this.#run(() =>
				this.client.hscan(QUOTA_KEY, cursor, 'MATCH', 'h:*', 'COUNT', 1000)
			);
			for (let i = 0; i < entries.length; i += 2) ids.push(entries[i]!.slice(2));
			cursor = next;
		} while (cursor !== '0');
		return [...new Set(ids)]; // HSCAN may return a field twice
	}

	async reconcileQuota(): Promise<QuotaUsage> {
		const [bytes, drops] = await this.#script<number[]>('rzQuotaReconcile', QUOTA_KEY);
		return { bytes: Number(bytes), drops: Number(drops) };
	}

	async close(): Promise<void> {
		this.#closing = true;
		await Promise.all(
			[this.client, this.#commits].map(async (client) => {
				if (!client) return;
				try {
					await client.quit();
				} catch {
					client.disconnect();
				}
			})
		);
	}
}
