/**
 * One contract, two stores: the in-process store and Redis, the latter in each topology the
 * service supports, all real redis-servers of this file's own: one Redis (REDIS_URL), a
 * primary with a replica behind three sentinels (REDIS_SENTINELS), and a three-master
 * Cluster (REDIS_CLUSTER_NODES). Anything a later feature relies on is pinned here for all.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { MemoryStore } from '../../src/lib/server/store/memory';
import { RedisStore } from '../../src/lib/server/store/redis';
import {
	StoreUnavailableError,
	type MetadataStore,
	type NewDrop
} from '../../src/lib/server/store/types';
import { sleep, startRedis } from '../helpers/processes.js';
import type { TestRedis } from '../helpers/processes.js';
import { startRedisCluster, startSentinelRedis } from '../helpers/redis-ha.js';
import type { SentinelRedis, TestCluster } from '../helpers/redis-ha.js';

let redis: TestRedis;
const opened: MetadataStore[] = [];
// Started by the first describe block that needs them (a filtered run starts only its own).
let sentinel: Promise<SentinelRedis> | undefined;
let cluster: Promise<TestCluster> | undefined;
// With a password, so REDIS_PASSWORD's path is the one tested.
const PASSWORD = 'contract-test-password';

beforeAll(async () => {
	redis = await startRedis();
});

afterAll(async () => {
	await Promise.all(opened.map((store) => store.close()));
	await redis.stop();
	await (await sentinel)?.stop();
	await (await cluster)?.stop();
}, 30_000);

async function waitReady(store: MetadataStore) {
	await store.ready(15_000);
	for (let i = 0; i < 100 && (await store.ping()) === 'offline'; i++) {
		await sleep(20);
	}
}

const implementations = [
	['memory', async () => new MemoryStore(), 'embedded'],
	[
		'redis',
		async () => {
			const store = new RedisStore(redis.url);
			opened.push(store);
			await waitReady(store);
			return store;
		},
		'online'
	],
	[
		'redis sentinel',
		async () => {
			const { sentinels, name } = await (sentinel ??= startSentinelRedis({ password: PASSWORD }));
			const store = new RedisStore({ kind: 'sentinel', sentinels, name, password: PASSWORD });
			opened.push(store);
			await waitReady(store);
			return store;
		},
		'online'
	],
	[
		'redis cluster',
		async () => {
			const { nodes } = await (cluster ??= startRedisCluster({ password: PASSWORD }));
			const store = new RedisStore({ kind: 'cluster', nodes, password: PASSWORD });
			opened.push(store);
			await waitReady(store);
			return store;
		},
		'online'
	]
] as const;

describe.each(implementations)('%s store', (_, open, readyState) => {
	let store: MetadataStore;

	beforeAll(async () => {
		store = await open();
	}, 60_000);

	test(`is ready, and ping reports ${readyState}`, async () => {
		expect(await store.ready(1000)).toBe(true);
		expect(await store.ping()).toBe(readyState);
	});

	test('a heartbeat is read back until its TTL passes', async () => {
		const name = `hb-${Math.random()}`;
		expect(await store.readHeartbeat(name)).toBeUndefined();
		await store.recordHeartbeat(name, 1_700_000_000_123, 150);
		expect(await store.readHeartbeat(name)).toBe(1_700_000_000_123);
		await sleep(250);
		expect(await store.readHeartbeat(name)).toBeUndefined();
	});

	test('a lock is exclusive, released only by its holder, and freed by its TTL', async () => {
		const name = `lock-${Math.random()}`;
		const token = await store.acquireLock(name, 200);
		expect(token).toEqual(expect.any(String));
		expect(await store.acquireLock(name, 200)).toBeUndefined();

		await store.releaseLock(name, 'not-the-token');
		expect(await store.acquireLock(name, 200)).toBeUndefined();

		await store.releaseLock(name, token!);
		const second = await store.acquireLock(name, 200);
		expect(second).toEqual(expect.any(String));
		expect(second).not.toBe(token);

		await sleep(300);
		expect(await store.acquireLock(name, 200)).toEqual(expect.any(String));
	});

	test('only one of many racing callers gets a lock', async () => {
		const name = `race-${Math.random()}`;
		const results = await Promise.all(
			Array.from({ length: 50 }, () => store.acquireLock(name, 5000))
		);
		expect(results.filter((token) => token !== undefined)).toHaveLength(1);
	});
});

describe.each(implementations)('%s store: drops', (_, open) => {
	let store: MetadataStore;
	const newId = () => Math.random().toString(16).slice(2).padEnd(32, '0');
	const drop = (overrides: Partial<NewDrop> = {}): NewDrop => ({
		meta: 'v1.sealed',
		expiresAt: Date.now() + 60_000,
		uses: 2,
		tombstoneUntil: Date.now() + 120_000,
		...overrides
	});

	beforeAll(async () => {
		store = await open();
	}, 60_000);

	test('a reservation blocks a second reservation and is taken over by createDrop', async () => {
		const id = newId();
		expect(await store.reserveId(id, 5000)).toBe(true);
		expect(await store.reserveId(id, 5000)).toBe(false);
		expect(await store.isFileNeeded(id)).toBe(true);
		expect(await store.createDrop(id, drop())).toBe(true);
		expect(await store.reserveId(id, 5000)).toBe(false);
		expect(await store.createDrop(id, drop({ meta: 'overwrite' }))).toBe(false);
		expect(await store.readDrop(id)).toMatchObject({
			state: 'active',
			record: { meta: 'v1.sealed' }
		});
	});

	test('a released reservation frees the id; an unknown id is unknown and unneeded', async () => {
		const id = newId();
		await store.reserveId(id, 5000);
		await store.releaseReservation(id);
		expect(await store.isFileNeeded(id)).toBe(false);
		expect(await store.readDrop(id)).toEqual({ state: 'unknown' });
		expect(await store.claimUse(id, 1000)).toEqual({ state: 'unknown' });
		expect(await store.claimPreview(id)).toEqual({ state: 'unknown' });
	});

	test('reading changes nothing; uses count down; the last one leaves a burned tombstone', async () => {
		const id = newId();
		const expiresAt = Date.now() + 60_000;
		await store.createDrop(id, drop({ expiresAt, uses: 2 }));
		expect(await store.readDrop(id)).toEqual({
			state: 'active',
			record: { meta: 'v1.sealed', expiresAt, usesLeft: 2, previewed: false }
		});
		expect(await store.readDrop(id)).toMatchObject({ record: { usesLeft: 2 } });
		expect(await store.claimUse(id, 5000)).toMatchObject({
			state: 'claimed',
			record: { usesLeft: 1 }
		});
		expect(await store.claimUse(id, 5000)).toMatchObject({
			state: 'claimed',
			record: { usesLeft: 0 }
		});
		expect(await store.claimUse(id, 5000)).toEqual({ state: 'burned' });
		expect(await store.readDrop(id)).toEqual({ state: 'burned' });
		expect(await store.reserveId(id, 5000)).toBe(false);
	});

	test('a claim told the page showed more withholds the last use, taking nothing', async () => {
		const id = newId();
		await store.createDrop(id, drop({ uses: 3 }));
		// Not the last use: the count shown changes nothing.
		expect(await store.claimUse(id, 5000, 3)).toMatchObject({
			state: 'claimed',
			record: { usesLeft: 2 }
		});
		expect(await store.claimUse(id, 5000, 3)).toMatchObject({
			state: 'claimed',
			record: { usesLeft: 1 }
		});
		expect(await store.releaseReader(id)).toBe(1);
		expect(await store.releaseReader(id)).toBe(0);
		// The last one, from a page that showed 2 or 3: refused, no use taken, no reader left.
		for (const shown of [3, 2]) {
			expect(await store.claimUse(id, 5000, shown)).toEqual({ state: 'last_use_withheld' });
		}
		expect(await store.readDrop(id)).toMatchObject({ state: 'active', record: { usesLeft: 1 } });
		expect(await store.releaseReader(id)).toBe(0);
		// A page that showed 1 (or no count) takes it.
		expect(await store.claimUse(id, 5000, 1)).toMatchObject({
			state: 'claimed',
			record: { usesLeft: 0 }
		});
		expect(await store.claimUse(id, 5000, 3)).toEqual({ state: 'burned' });
	});

	test('readers keep the file needed after the record is gone, until each releases', async () => {
		const id = newId();
		await store.createDrop(id, drop({ uses: 2 }));
		await store.claimUse(id, 5000);
		await store.claimUse(id, 5000);
		expect(await store.readDrop(id)).toEqual({ state: 'burned' });
		expect(await store.isFileNeeded(id)).toBe(true);
		expect(await store.releaseReader(id)).toBe(1);
		expect(await store.isFileNeeded(id)).toBe(true);
		expect(await store.releaseReader(id)).toBe(0);
		expect(await store.isFileNeeded(id)).toBe(false);
	});

	test('a reservation is refreshed only by its owner, and never brought back once gone', async () => {
		const id = newId();
		expect(await store.reserveId(id, 1000, 'owner-a')).toBe(true);
		await sleep(600);
		expect(await store.refreshReservation(id, 1000, 'owner-b')).toBe(false);
		expect(await store.refreshReservation(id, 1000, 'owner-a')).toBe(true);
		// Past the first TTL: only the refresh keeps it.
		await sleep(600);
		expect(await store.reservationOwner(id)).toBe('owner-a');
		expect(await store.isFileNeeded(id)).toBe(true);
		// Not refreshed again: it lapses, and a refresh does not recreate it.
		await sleep(800);
		expect(await store.reservationOwner(id)).toBeUndefined();
		expect(await store.refreshReservation(id, 1000, 'owner-a')).toBe(false);
		expect(await store.reservationOwner(id)).toBeUndefined();

		const released = newId();
		await store.reserveId(released, 10000, 'owner-a');
		await store.releaseReservation(released);
		expect(await store.refreshReservation(released, 10000, 'owner-a')).toBe(false);
		expect(await store.isFileNeeded(released)).toBe(false);

		const created = newId();
		await store.reserveId(created, 10000, 'owner-a');
		await store.createDrop(created, drop());
		expect(await store.refreshReservation(created, 10000, 'owner-a')).toBe(false);
		expect(await store.reservationOwner(created)).toBeUndefined();
	});

	test('a reader mark is refreshed while it exists, for every reader of the drop', async () => {
		const id = newId();
		expect(await store.refreshReader(id, 1000)).toBe(false);
		await store.createDrop(id, drop({ uses: 2 }));
		await store.claimUse(id, 1000);
		await store.claimUse(id, 1000);
		expect(await store.readDrop(id)).toEqual({ state: 'burned' });
		await sleep(600);
		expect(await store.refreshReader(id, 1000)).toBe(true);
		// Past the first TTL: the refreshed mark still counts both readers.
		await sleep(600);
		expect(await store.isFileNeeded(id)).toBe(true);
		expect(await store.releaseReader(id)).toBe(1);
		expect(await store.isFileNeeded(id)).toBe(true);
		// Not refreshed again: it lapses, and a refresh does not recreate it.
		await sleep(800);
		expect(await store.isFileNeeded(id)).toBe(false);
		expect(await store.refreshReader(id, 1000)).toBe(false);
		expect(await store.isFileNeeded(id)).toBe(false);

		const released = newId();
		await store.createDrop(released, drop({ uses: 1 }));
		await store.claimUse(released, 10000);
		expect(await store.releaseReader(released)).toBe(0);
		expect(await store.refreshReader(released, 10000)).toBe(false);
		expect(await store.isFileNeeded(released)).toBe(false);
	});

	test('burning destroys an active drop once: then burned, unclaimable, readers still honoured', async () => {
		const id = newId();
		await store.createDrop(id, drop({ uses: 3 }));
		await store.claimUse(id, 5000);
		const burns = await Promise.all([store.burnDrop(id), store.burnDrop(id)]);
		expect(burns.map((burn) => burn.state).sort()).toEqual(['burned', 'destroyed']);
		expect(await store.readDrop(id)).toEqual({ state: 'burned' });
		expect(await store.claimUse(id, 5000)).toEqual({ state: 'burned' });
		expect(await store.claimPreview(id)).toEqual({ state: 'burned' });
		expect(await store.isFileNeeded(id)).toBe(true);
		expect(await store.releaseReader(id)).toBe(0);
		expect(await store.isFileNeeded(id)).toBe(false);
		expect(await store.burnDrop(newId())).toEqual({ state: 'unknown' });
	});

	test('exactly `uses` of 50 racing claims succeed', async () => {
		const id = newId();
		await store.createDrop(id, drop({ uses: 3 }));
		const claims = await Promise.all(Array.from({ length: 50 }, () => store.claimUse(id, 5000)));
		expect(claims.filter((claim) => claim.state === 'claimed')).toHaveLength(3);
		expect(claims.filter((claim) => claim.state === 'burned')).toHaveLength(47);
	});

	test('the preview is claimed once, and does not use up a download', async () => {
		const id = newId();
		await store.createDrop(id, drop({ uses: 1 }));
		const claims = await Promise.all([store.claimPreview(id), store.claimPreview(id)]);
		expect(claims.map((claim) => claim.state).sort()).toEqual(['already_previewed', 'claimed']);
		expect(await store.readDrop(id)).toMatchObject({ record: { usesLeft: 1, previewed: true } });
	});

	test('at its time the record disappears and the tombstone says expired', async () => {
		const id = newId();
		await store.createDrop(
			id,
			drop({ expiresAt: Date.now() + 150, tombstoneUntil: Date.now() + 5000 })
		);
		expect(await store.readDrop(id)).toMatchObject({ state: 'active' });
		await sleep(300);
		expect(await store.readDrop(id)).toEqual({ state: 'expired' });
		expect(await store.claimUse(id, 1000)).toEqual({ state: 'expired' });
		expect(await store.isFileNeeded(id)).toBe(false);
	});

	test('tombstones themselves go at their time', async () => {
		const id = newId();
		await store.createDrop(
			id,
			drop({ expiresAt: Date.now() + 100, tombstoneUntil: Date.now() + 250 })
		);
		await sleep(400);
		expect(await store.readDrop(id)).toEqual({ state: 'unknown' });
	});
});

describe.each(implementations)('%s store: storage quota', (_, open) => {
	// Two stores on one backing store: two instances sharing one Redis (the in-process store
	// serves one instance, so both are the same store there).
	let one: MetadataStore;
	let other: MetadataStore;
	const newId = () => Math.random().toString(16).slice(2).padEnd(32, '0');
	const limits = { maxBytes: 1000, maxDrops: 5 };

	beforeAll(async () => {
		one = await open();
		other = one instanceof MemoryStore ? one : await open();
	}, 60_000);

	beforeEach(async () => {
		for (const id of await one.listQuotaHolds()) await one.releaseQuota(id);
		await one.reconcileQuota();
	});

	test('holds add up, grow, settle and release; totals follow every step', async () => {
		const [a, b] = [newId(), newId()];
		expect(await one.quotaUsage()).toEqual({ bytes: 0, drops: 0 });
		expect(await one.holdQuota(a, 300, limits)).toBe('held');
		expect(await other.holdQuota(b, 0, limits)).toBe('held');
		expect(await other.holdQuota(b, 200, limits)).toBe('held');
		expect(await one.quotaUsage()).toEqual({ bytes: 500, drops: 2 });
		expect((await other.listQuotaHolds()).sort()).toEqual([a, b].sort());

		await one.settleQuota(b, 120);
		expect(await other.quotaUsage()).toEqual({ bytes: 420, drops: 2 });
		expect(await one.releaseQuota(a)).toBe(300);
		expect(await one.releaseQuota(a)).toBe(0);
		expect(await other.quotaUsage()).toEqual({ bytes: 120, drops: 1 });
		// Settling what is not held creates nothing.
		await one.settleQuota(a, 999);
		expect(await one.quotaUsage()).toEqual({ bytes: 120, drops: 1 });
		expect(await one.listQuotaHolds()).toEqual([b]);
	});

	test('a hold past the byte quota or the drop cap is refused and changes nothing', async () => {
		const first = newId();
		expect(await one.holdQuota(first, 900, limits)).toBe('held');
		expect(await one.holdQuota(first, 101, limits)).toBe('bytes');
		expect(await other.holdQuota(newId(), 101, limits)).toBe('bytes');
		expect(await one.holdQuota(first, 100, limits)).toBe('held');
		for (let i = 0; i < 4; i++) expect(await other.holdQuota(newId(), 0, limits)).toBe('held');
		expect(await one.holdQuota(newId(), 0, limits)).toBe('drops');
		// A drop already held may still grow within the bytes (none left here).
		expect(await one.holdQuota(first, 1, limits)).toBe('bytes');
		expect(await one.quotaUsage()).toEqual({ bytes: 1000, drops: 5 });
		expect(await one.holdQuota(newId(), 0, { maxBytes: Infinity, maxDrops: Infinity })).toBe(
			'held'
		);
	});

	test('of 60 holds racing from two instances, exactly as many as fit are held', async () => {
		const results = await Promise.all(
			Array.from({ length: 60 }, (_, i) =>
				(i % 2 ? one : other).holdQuota(newId(), 70, { maxBytes: 1000, maxDrops: 100 })
			)
		);
		expect(results.filter((result) => result === 'held')).toHaveLength(14);
		expect(await one.quotaUsage()).toEqual({ bytes: 980, drops: 14 });
		const capped = await Promise.all(
			Array.from({ length: 30 }, (_, i) =>
				(i % 2 ? one : other).holdQuota(newId(), 0, { maxBytes: 1000, maxDrops: 20 })
			)
		);
		expect(capped.filter((result) => result === 'held')).toHaveLength(6);
	});

	test('reconciling recomputes the totals from the holds', async () => {
		const id = newId();
		await one.holdQuota(id, 250, limits);
		await one.holdQuota(newId(), 50, limits);
		if (one instanceof RedisStore) {
			// Totals that drifted (a hand edit, a bug): the holds are what counts.
			await one.client.hset('quota', 'bytes', 77_777, 'drops', 42);
		}
		expect(await other.reconcileQuota()).toEqual({ bytes: 300, drops: 2 });
		expect(await one.quotaUsage()).toEqual({ bytes: 300, drops: 2 });
		await one.releaseQuota(id);
		expect(await one.reconcileQuota()).toEqual({ bytes: 50, drops: 1 });
	});

	test('totals beyond 2^32 bytes stay exact', async () => {
		const big = 17 * 1024 ** 3 + 5;
		await one.holdQuota(newId(), big, { maxBytes: Infinity, maxDrops: 10 });
		await one.holdQuota(newId(), big, { maxBytes: Infinity, maxDrops: 10 });
		expect(await other.reconcileQuota()).toEqual({ bytes: 2 * big, drops: 2 });
	});
});

describe('redis store during an outage', () => {
	test('fails fast with StoreUnavailableError, reports offline, and recovers by itself', async () => {
		const store = new RedisStore(redis.url);
		opened.push(store);
		await waitReady(store);
		expect(await store.ping()).toBe('online');

		await redis.stop();
		const started = Date.now();
		await expect(store.recordHeartbeat('x', 1, 1000)).rejects.toBeInstanceOf(StoreUnavailableError);
		expect(await store.ping()).toBe('offline');
		expect(Date.now() - started).toBeLessThan(3000);

		await redis.start();
		const restarted = Date.now();
		await waitReady(store);
		expect(await store.ping()).toBe('online');
		expect(Date.now() - restarted).toBeLessThan(5000);
		await store.recordHeartbeat('x', 2, 1000);
		expect(await store.readHeartbeat('x')).toBe(2);
	});
});

describe('redis store start-up', () => {
	test('ready() resolves true once connected, false when Redis never answers', async () => {
		const store = new RedisStore(redis.url);
		opened.push(store);
		expect(await store.ready(3000)).toBe(true);
		const nowhere = new RedisStore('redis://127.0.0.1:1/0');
		opened.push(nowhere);
		const started = Date.now();
		expect(await nowhere.ready(300)).toBe(false);
		expect(Date.now() - started).toBeLessThan(1000);
	});
});
