/**
 * Storage quotas: what uploads may take, so that no client (nor a few hundred) can fill the
 * disk or the store.
 *   - STORAGE_QUOTA: the bytes every stored drop and upload in progress takes on disk
 *     (encrypted, so a little more than the files), across every instance of the store;
 *   - MAX_LIVE_DROPS: how many of them there may be at once;
 *   - UPLOAD_BYTE_LIMIT: the bytes of files one client may send per window (limits.ts).
 *
 * Each upload holds its share in the store before it writes a byte, atomically (holdQuota),
 * and grows the hold while it streams when its length was not declared; a refusal stops the
 * upload there and its part is removed. The hold is released when the upload fails and when
 * the drop's file is shredded (burned, expired, or swept); the sweep releases the holds of
 * ids nothing needs any more and recomputes the totals (cleanup.ts), so a crash mid-upload
 * cannot keep quota for good.
 */
import type { Config } from './config';
import { encryptedSize } from './crypto/file-format';
import type { Limits } from './limits';
import { refuse, RefusalError, type Refusal } from './refusal';
import type { MetadataStore, QuotaHoldResult, QuotaLimits, QuotaUsage } from './store/types';

/**
 * Without a declared length an upload takes its quota and budget 1 MiB at a time as it
 * streams: a store round trip per MiB, and never more held than one step past what arrived.
 */
export const QUOTA_STEP_BYTES = 1024 * 1024;

export type QuotaConfig = Pick<Config, 'storageQuota' | 'maxLiveDrops' | 'maxFileSize'>;

export type QuotaDeps = { config: QuotaConfig; store: MetadataStore; limits: Limits };

/** The store's limits from the configuration. */
export function quotaLimits(config: QuotaConfig): QuotaLimits {
	return { maxBytes: config.storageQuota, maxDrops: config.maxLiveDrops };
}

/** What every instance's stored drops and uploads take together (for health and metrics). */
export function quotaUsage(store: MetadataStore): Promise<QuotaUsage> {
	return store.quotaUsage();
}

function quotaRefusal(reason: Exclude<QuotaHoldResult, 'held'>): Refusal {
	return refuse('STORAGE_QUOTA', {
		detail:
			reason === 'drops'
				? 'This server holds as many drops as it may right now. Drops expire within an hour: try again later.'
				: undefined
	});
}

/**
 * The most file bytes a body of `contentLength` can carry: the file is part of the body and
 * never larger than MAX_FILE_SIZE (the upload is refused past it). Undefined when unknown.
 */
export function declaredFileBytes(
	contentLength: number | undefined,
	maxFileSize: number
): number | undefined {
	if (contentLength === undefined || !Number.isSafeInteger(contentLength) || contentLength < 0) {
		return undefined;
	}
	return Math.min(contentLength, maxFileSize);
}

/**
 * A refusal from the running totals alone, before anything is reserved: the quota or the
 * drop cap is already reached, or the declared length cannot fit. Cheap (one read) and not
 * exact under a race; holdQuota, later, is.
 */
export async function checkQuota(
	{ config, store }: QuotaDeps,
	declared: number | undefined
): Promise<Refusal | undefined> {
	const { maxBytes, maxDrops } = quotaLimits(config);
	const usage = await store.quotaUsage();
	if (usage.drops >= maxDrops) return quotaRefusal('drops');
	if (usage.bytes + encryptedSize(declared ?? 0) > maxBytes) return quotaRefusal('bytes');
	return undefined;
}

/**
 * One upload's share of the client's byte budget and of the storage quota: taken before the
 * body is read (all of a declared length at once), grown while it streams, settled to what
 * was stored, or given back. `meter` is the hook upload.ts calls with the file bytes received
 * so far; it resolves once they are covered, and throws a RefusalError when they cannot be.
 */
export class UploadAllowance {
	readonly #deps: QuotaDeps;
	readonly #address: string;
	readonly #declared: number | undefined;
	/** File bytes taken from the client's budget so far. */
	#budgeted = 0;
	/** File bytes whose encrypted size the store holds for this upload, once `hold` ran. */
	#held = 0;
	#id: string | undefined;
	/** File bytes received so far (the last `meter` call). */
	#received = 0;

	constructor(deps: QuotaDeps, address: string, declared: number | undefined) {
		this.#deps = deps;
		this.#address = address;
		this.#declared = declared;
	}

	/** Take the declared length from the client's budget (nothing when it is not declared). */
	async takeBudget(): Promise<Refusal | undefined> {
		const bytes = this.#declared ?? 0;
		if (bytes === 0) return undefined;
		const taken = await this.#deps.limits.takeUploadBytes(this.#address, bytes);
		if (!taken.ok) return taken;
		this.#budgeted = bytes;
		return undefined;
	}

	/** Hold this upload's place (and its declared bytes) in the storage quota under `id`. */
	async hold(id: string): Promise<Refusal | undefined> {
		const bytes = this.#declared ?? 0;
		const result = await this.#deps.store.holdQuota(
			id,
			encryptedSize(bytes),
			quotaLimits(this.#deps.config)
		);
		if (result !== 'held') return quotaRefusal(result);
		this.#id = id;
		this.#held = bytes;
		return undefined;
	}

	/** Called with the file bytes received so far; a promise only when more must be taken. */
	readonly meter = (received: number): Promise<void> | undefined => {
		this.#received = received;
		if (received <= this.#budgeted && received <= this.#held) return undefined;
		return this.#grow(received);
	};

	async #grow(received: number): Promise<void> {
		if (received > this.#budgeted) {
			this.#budgeted += await this.#take(received - this.#budgeted, this.#budgeted, (bytes) =>
				this.#deps.limits.takeUploadBytes(this.#address, bytes)
			);
		}
		if (received > this.#held && this.#id !== undefined) {
			const id = this.#id;
			const from = this.#held;
			this.#held += await this.#take(received - from, from, async (bytes) => {
				const grown = encryptedSize(from + bytes) - encryptedSize(from);
				const result = await this.#deps.store.holdQuota(id, grown, quotaLimits(this.#deps.config));
				return result === 'held' ? { ok: true } : quotaRefusal(result);
			});
		}
	}

	/**
	 * Take a step ahead of what arrived, or, when that does not fit, exactly what arrived (a
	 * file that fits is never refused for the step). Resolves the bytes taken.
	 */
	async #take(
		needed: number,
		from: number,
		take: (bytes: number) => Promise<{ ok: true } | Refusal>
	): Promise<number> {
		const { maxFileSize } = this.#deps.config;
		const step = Math.max(needed, Math.min(QUOTA_STEP_BYTES, maxFileSize - from));
		let taken = await take(step);
		if (taken.ok) return step;
		if (step > needed) taken = await take(needed);
		if (taken.ok) return needed;
		throw new RefusalError(taken);
	}

	/** The upload is stored: the hold becomes the file's size on disk, unread budget goes back. */
	async settle(size: number): Promise<void> {
		if (this.#id !== undefined) await this.#deps.store.settleQuota(this.#id, encryptedSize(size));
		await this.#deps.limits.returnUploadBytes(this.#address, this.#budgeted - size);
		this.#budgeted = size;
	}

	/**
	 * The upload failed: its hold is released, and the budget keeps only the bytes that were
	 * read (none for a refusal before the body). Never throws: what it could not give back,
	 * the sweep does (quota) or the window does (budget).
	 */
	async release(): Promise<void> {
		if (this.#id !== undefined) {
			await this.#deps.store.releaseQuota(this.#id).catch(() => undefined);
			this.#id = undefined;
		}
		await this.#deps.limits
			.returnUploadBytes(this.#address, this.#budgeted - this.#received)
			.catch(() => undefined);
		this.#budgeted = this.#received;
	}
}
