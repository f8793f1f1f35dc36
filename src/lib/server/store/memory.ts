/**
 * The in-process store: zero set-up, one instance only. Everything lives in this process's
 * memory and is lost on restart (files on disk without a record are then swept as orphans).
 * Each method runs without an `await` between its reads and writes, so it is atomic in
 * JavaScript's single thread, as the Lua scripts are in Redis.
 */
import { randomUUID } from 'node:crypto';
import type {
	BurnOutcome,
	DropLookup,
	DropRecord,
	MetadataStore,
	NewDrop,
	PreviewClaim,
	QuotaHoldResult,
	QuotaLimits,
	QuotaUsage,
	StoreState,
	UseClaim
} from './types';

type Entry<T> = { value: T; expiresAt: number };

/** A map whose entries vanish at their time, checked lazily on read like Redis keys. */
class ExpiringMap<T> {
	readonly #entries = new Map<string, Entry<T>>();

	get(key: string): T | undefined {
		const entry = this.#entries.get(key);
		if (!entry) return undefined;
		if (entry.expiresAt <= Date.now()) {
			this.#entries.delete(key);
			return undefined;
		}
		return entry.value;
	}

	set(key: string, value: T, expiresAt: number): void {
		this.#entries.set(key, { value, expiresAt });
	}

	/** Change a live value, keeping its expiry. */
	update(key: string, value: T): void {
		const entry = this.#entries.get(key);
		if (entry) entry.value = value;
	}

	/** Move a live entry's expiry; resolves false (and does nothing) when there is none. */
	extend(key: string, expiresAt: number): boolean {
		if (this.get(key) === undefined) return false;
		this.#entries.get(key)!.expiresAt = expiresAt;
		return true;
	}

	delete(key: string): void {
		this.#entries.delete(key);
	}

	/** Drop expired entries so memory does not grow with dead keys (called by the sweeps' reads too). */
	prune(): void {
		const now = Date.now();
		for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
	}

	clear(): void {
		this.#entries.clear();
	}
}

export class MemoryStore implements MetadataStore {
	readonly kind = 'memory';
	readonly #values = new ExpiringMap<string>();
	readonly #drops = new ExpiringMap<DropRecord & { tombstoneUntil: number }>();
	readonly #readers = new ExpiringMap<number>();
	#operations = 0;
	/** The storage quota's holds by id, and their running totals (as the Redis hash keeps them). */
	readonly #holds = new Map<string, number>();
	#held: QuotaUsage = { bytes: 0, drops: 0 };

	/** Every thousand writes, forget expired keys (Redis does this by itself). */
	#tick(): void {
		if (++this.#operations % 1000 !== 0) return;
		this.#values.prune();
		this.#drops.prune();
		this.#readers.prune();
	}

	async ready(): Promise<boolean> {
		return true;
	}

	async ping(): Promise<StoreState> {
		return 'embedded';
	}

	async recordHeartbeat(name: string, at: number, ttlMs: number): Promise<void> {
		this.#values.set(`heartbeat:${name}`, String(at), Date.now() + ttlMs);
	}

	async readHeartbeat(name: string): Promise<number | undefined> {
		const value = this.#values.get(`heartbeat:${name}`);
		return value === undefined ? undefined : Number(value);
	}

	async acquireLock(name: string, ttlMs: number): Promise<string | undefined> {
		if (this.#values.get(`lock:${name}`) !== undefined) return undefined;
		const token = randomUUID();
		this.#values.set(`lock:${name}`, token, Date.now() + ttlMs);
		return token;
	}

	async releaseLock(name: string, token: string): Promise<void> {
		if (this.#values.get(`lock:${name}`) === token) this.#values.delete(`lock:${name}`);
	}

	async reserveId(id: string, ttlMs: number, owner = '1'): Promise<boolean> {
		this.#tick();
		const taken =
			this.#drops.get(id) !== undefined ||
			this.#values.get(`tomb:${id}`) !== undefined ||
			this.#values.get(`reserve:${id}`) !== undefined;
		if (taken) return false;
		this.#values.set(`reserve:${id}`, owner, Date.now() + ttlMs);
		return true;
	}

	async refreshReservation(id: string, ttlMs: number, owner = '1'): Promise<boolean> {
		if (this.#values.get(`reserve:${id}`) !== owner) return false;
		return this.#values.extend(`reserve:${id}`, Date.now() + ttlMs);
	}

	async reservationOwner(id: string): Promise<string | undefined> {
		return this.#values.get(`reserve:${id}`);
	}

	async releaseReservation(id: string): Promise<void> {
		this.#values.delete(`reserve:${id}`);
	}

	async createDrop(id: string, drop: NewDrop): Promise<boolean> {
		if (this.#drops.get(id) !== undefined) return false;
		const { meta, expiresAt, uses, tombstoneUntil } = drop;
		this.#drops.set(
			id,
			{ meta, expiresAt, usesLeft: uses, previewed: false, tombstoneUntil },
			expiresAt
		);
		this.#values.set(`tomb:${id}`, 'expired', tombstoneUntil);
		this.#values.delete(`reserve:${id}`);
		return true;
	}

	#gone(id: string): { state: 'burned' | 'expired' | 'unknown' } {
		const tomb = this.#values.get(`tomb:${id}`);
		return { state: tomb === 'burned' || tomb === 'expired' ? tomb : 'unknown' };
	}

	static #public(record: DropRecord): DropRecord {
		const { meta, expiresAt, usesLeft, previewed } = record;
		return { meta, expiresAt, usesLeft, previewed };
	}

	async readDrop(id: string): Promise<DropLookup> {
		const record = this.#drops.get(id);
		return record ? { state: 'active', record: MemoryStore.#public(record) } : this.#gone(id);
	}

	async claimUse(id: string, readerTtlMs: number, usesShown?: number): Promise<UseClaim> {
		const record = this.#drops.get(id);
		if (!record) return this.#gone(id);
		if (usesShown !== undefined && usesShown > 1 && record.usesLeft <= 1) {
			return { state: 'last_use_withheld' };
		}
		const usesLeft = record.usesLeft - 1;
		this.#readers.set(
			`readers:${id}`,
			(this.#readers.get(`readers:${id}`) ?? 0) + 1,
			Date.now() + readerTtlMs
		);
		if (usesLeft <= 0) {
			this.#drops.delete(id);
			this.#values.set(`tomb:${id}`, 'burned', Math.max(record.tombstoneUntil, Date.now() + 1000));
		} else {
			this.#drops.update(id, { ...record, usesLeft });
		}
		return {
			state: 'claimed',
			record: MemoryStore.#public({ ...record, usesLeft: Math.max(0, usesLeft) })
		};
	}

	async burnDrop(id: string): Promise<BurnOutcome> {
		const record = this.#drops.get(id);
		if (!record) return this.#gone(id);
		this.#drops.delete(id);
		this.#values.set(`tomb:${id}`, 'burned', Math.max(record.tombstoneUntil, Date.now() + 1000));
		return { state: 'destroyed' };
	}

	async claimPreview(id: string): Promise<PreviewClaim> {
		const record = this.#drops.get(id);
		if (!record) return this.#gone(id);
		if (record.previewed) return { state: 'already_previewed' };
		this.#drops.update(id, { ...record, previewed: true });
		return { state: 'claimed', record: MemoryStore.#public({ ...record, previewed: true }) };
	}

	async refreshReader(id: string, ttlMs: number): Promise<boolean> {
		return this.#readers.extend(`readers:${id}`, Date.now() + ttlMs);
	}

	async releaseReader(id: string): Promise<number> {
		const left = (this.#readers.get(`readers:${id}`) ?? 0) - 1;
		if (left <= 0) this.#readers.delete(`readers:${id}`);
		else this.#readers.update(`readers:${id}`, left);
		return Math.max(0, left);
	}

	async isFileNeeded(id: string): Promise<boolean> {
		return (
			this.#drops.get(id) !== undefined ||
			this.#values.get(`reserve:${id}`) !== undefined ||
			this.#readers.get(`readers:${id}`) !== undefined
		);
	}

	async holdQuota(id: string, bytes: number, limits: QuotaLimits): Promise<QuotaHoldResult> {
		const held = this.#holds.get(id);
		if (held === undefined && this.#held.drops + 1 > limits.maxDrops) return 'drops';
		if (this.#held.bytes + bytes > limits.maxBytes) return 'bytes';
		this.#holds.set(id, (held ?? 0) + bytes);
		this.#held.bytes += bytes;
		if (held === undefined) this.#held.drops++;
		return 'held';
	}

	async settleQuota(id: string, bytes: number): Promise<void> {
		const held = this.#holds.get(id);
		if (held === undefined) return;
		this.#holds.set(id, bytes);
		this.#held.bytes += bytes - held;
	}

	async releaseQuota(id: string): Promise<number> {
		const held = this.#holds.get(id);
		if (held === undefined) return 0;
		this.#holds.delete(id);
		this.#held.bytes -= held;
		this.#held.drops--;
		return held;
	}

	async quotaUsage(): Promise<QuotaUsage> {
		return { ...this.#held };
	}

	async listQuotaHolds(): Promise<string[]> {
		return [...this.#holds.keys()];
	}

	async reconcileQuota(): Promise<QuotaUsage> {
		let bytes = 0;
		for (const held of this.#holds.values()) bytes += held;
		this.#held = { bytes, drops: this.#holds.size };
		return { ...this.#held };
	}

	async close(): Promise<void> {
		this.#holds.clear();
		this.#held = { bytes: 0, drops: 0 };
		this.#values.clear();
		this.#drops.clear();
		this.#readers.clear();
	}
}
