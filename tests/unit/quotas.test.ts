/**
 * The quota bookkeeping without a server (in-process store and limits): how an upload's
 * allowance grows while it streams, settles and gives back, and how the sweep releases holds
 * nothing needs and recomputes the totals. The integration suite (quotas.test.ts there) checks
 * the same through the built server and Redis.
 */
import pino from 'pino';
import { beforeEach, describe, expect, test } from 'vitest';
import { reconcileQuota } from '../../src/lib/server/cleanup';
import { parseConfig, type Config } from '../../src/lib/server/config';
import { encryptedSize } from '../../src/lib/server/crypto/file-format';
import { Limits } from '../../src/lib/server/limits';
import { QUOTA_STEP_BYTES, UploadAllowance, type QuotaDeps } from '../../src/lib/server/quotas';
import { RefusalError } from '../../src/lib/server/refusal';
import { MemoryStore } from '../../src/lib/server/store/memory';

const MiB = 1024 * 1024;
const CLIENT = '192.0.2.20';
const ID = 'a'.repeat(32);

let config: Config;
let store: MemoryStore;
let deps: QuotaDeps;

function setUp(env: Record<string, string>) {
	config = parseConfig(env);
	store = new MemoryStore();
	deps = { config, store, limits: new Limits(config, store) };
}

/** Feed `sizes` (cumulative file bytes) to the meter as the Inspector would. */
async function stream(allowance: UploadAllowance, sizes: number[]): Promise<void> {
	for (const size of sizes) await allowance.meter(size);
}

describe('an upload without a declared length', () => {
	beforeEach(() => setUp({ STORAGE_QUOTA: '3M', UPLOAD_BYTE_LIMIT: '5M/hour' }));

	test('holds 1 MiB steps ahead of what arrived, settles to the stored size, gives the rest back', async () => {
		const allowance = new UploadAllowance(deps, CLIENT, undefined);
		expect(await allowance.takeBudget()).toBeUndefined();
		expect(await allowance.hold(ID)).toBeUndefined();
		expect(await store.quotaUsage()).toEqual({ bytes: encryptedSize(0), drops: 1 });
		// Within a step, no store round trip (undefined, not a promise).
		await allowance.meter(1000);
		expect(allowance.meter(2000)).toBeUndefined();
		expect((await store.quotaUsage()).bytes).toBe(encryptedSize(QUOTA_STEP_BYTES));
		await stream(allowance, [QUOTA_STEP_BYTES + 1]);
		expect((await store.quotaUsage()).bytes).toBe(encryptedSize(2 * QUOTA_STEP_BYTES));
		await allowance.settle(QUOTA_STEP_BYTES + 1);
		expect(await store.quotaUsage()).toEqual({
			bytes: encryptedSize(QUOTA_STEP_BYTES + 1),
			drops: 1
		});
		const budget = await deps.limits.takeUploadBytes(CLIENT, 1);
		expect(budget).toMatchObject({ ok: true });
		if (budget.ok) {
			expect(Number(budget.headers['RateLimit-Remaining'])).toBe(5 * MiB - QUOTA_STEP_BYTES - 2);
		}
	});

	test('at the edge takes exactly what arrived; past it refuses and release gives all back', async () => {
		const allowance = new UploadAllowance(deps, CLIENT, undefined);
		await allowance.hold(ID);
		// Past 2.5 MiB no whole step fits any more, but these bytes do (the file's 48 chunk tags
		// and header included).
		const fits = 3 * MiB - 2000;
		await stream(allowance, [MiB, 2 * MiB, 2.5 * MiB, fits]);
		expect((await store.quotaUsage()).bytes).toBe(encryptedSize(fits));
		expect((await store.quotaUsage()).bytes).toBeLessThanOrEqual(3 * MiB);
		const refused = allowance.meter(3 * MiB);
		await expect(refused).rejects.toBeInstanceOf(RefusalError);
		await expect(refused).rejects.toMatchObject({ refusal: { code: 'STORAGE_QUOTA' } });
		await allowance.release();
		expect(await store.quotaUsage()).toEqual({ bytes: 0, drops: 0 });
	});

	test('the byte budget refuses with 429 UPLOAD_BUDGET_EXCEEDED; what was read stays counted', async () => {
		setUp({ UPLOAD_BYTE_LIMIT: '1M/hour' });
		const allowance = new UploadAllowance(deps, CLIENT, undefined);
		await allowance.hold(ID);
		await stream(allowance, [600_000]);
		const refused = allowance.meter(MiB + 1);
		await expect(refused).rejects.toMatchObject({
			refusal: { code: 'UPLOAD_BUDGET_EXCEEDED', retryAfterSeconds: expect.any(Number) }
		});
		await allowance.release();
		expect(await store.quotaUsage()).toEqual({ bytes: 0, drops: 0 });
		// More than the budget arrived before the refusal: all of it stays used.
		expect(await deps.limits.takeUploadBytes(CLIENT, 1)).toMatchObject({
			ok: false,
			code: 'UPLOAD_BUDGET_EXCEEDED'
		});
	});

	test('a refusal before the body gives every byte taken back', async () => {
		setUp({ UPLOAD_BYTE_LIMIT: '1M/hour' });
		const allowance = new UploadAllowance(deps, CLIENT, 700_000);
		expect(await allowance.takeBudget()).toBeUndefined();
		expect(await new UploadAllowance(deps, CLIENT, 700_000).takeBudget()).toMatchObject({
			code: 'UPLOAD_BUDGET_EXCEEDED'
		});
		await allowance.release();
		expect(await deps.limits.takeUploadBytes(CLIENT, MiB)).toMatchObject({ ok: true });
	});
});

describe('the sweep', () => {
	beforeEach(() => setUp({}));

	test('releases holds whose id nothing needs, keeps the others, and recomputes the totals', async () => {
		const limits = { maxBytes: Infinity, maxDrops: Infinity };
		const [uploading, stored, dead] = ['1', '2', '3'].map((c) => c.repeat(32)) as [
			string,
			string,
			string
		];
		await store.reserveId(uploading, 60_000);
		await store.holdQuota(uploading, 100, limits);
		await store.reserveId(stored, 60_000);
		await store.createDrop(stored, {
			meta: 'm',
			expiresAt: Date.now() + 60_000,
			uses: 1,
			tombstoneUntil: Date.now() + 120_000
		});
		await store.holdQuota(stored, 200, limits);
		// A crashed upload: its reservation lapsed, its hold stayed.
		await store.holdQuota(dead, 400, limits);
		const usage = await reconcileQuota({ config, store, log: pino({ level: 'silent' }) } as never);
		expect(usage).toEqual({ bytes: 300, drops: 2 });
		expect((await store.listQuotaHolds()).sort()).toEqual([uploading, stored]);
	});
});
