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

/**
 * What the store keeps of a live drop. `meta` is sealed with a key derived from the
 * passphrase (crypto/keys.ts); everything else here is deliberately content-free.
 */
export type DropRecord = {
	meta: string;
	/** ms since epoch; the record disappears then (store TTL). */
	expiresAt: number;
	usesLeft: number;
	previewed: boolean;
};

/** A drop that is gone says why, from its tombstone; `unknown` means there never was one (or long ago). */
export type GoneState = 'burned' | 'expired' | 'unknown';

export type NewDrop = {
	meta: string;
	expiresAt: number;
	uses: number;
	/** Until when the tombstone (`expired`, or `burned` after the last use) is kept. */
	tombstoneUntil: number;
};

export type DropLookup = { state: 'active'; record: DropRecord } | { state: GoneState };

export type UseClaim =
	| {
			state: 'claimed';
			/** The record after this use: `usesLeft` 0 means this was the last one and it is burned. */
			record: DropRecord;
	  }
	/**
	 * Refused, nothing taken: it would have taken the last use while the caller's page showed
	 * more (claimUse's `usesShown`).
	 */
	| { state: 'last_use_withheld' }
	| { state: GoneState };

/** `destroyed`: this call burned an active drop; otherwise the drop was already gone. */
export type BurnOutcome = { state: 'destroyed' } | { state: GoneState };

/**
 * The storage quota's limits for one hold (quotas.ts): the bytes every hold together may
 * reach (STORAGE_QUOTA) and how many holds there may be (MAX_LIVE_DROPS).
 */
export type QuotaLimits = { maxBytes: number; maxDrops: number };

/** Why a hold was refused: the byte quota or the cap on live drops is reached. */
export type QuotaHoldResult = 'held' | 'bytes' | 'drops';

/** What every hold together takes: bytes on disk (stored drops and uploads) and how many. */
export type QuotaUsage = { bytes: number; drops: number };

export type PreviewClaim =
	{ state: 'claimed'; record: DropRecord } | { state: 'already_previewed' } | { state: GoneState };

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
	/**
	 * Hold `id` for an upload in progress, unless a drop, tombstone or another upload has it.
	 * Resolves false on a collision (the caller draws a new passphrase). `owner` names the
	 * holder (process-owner.ts), so a later start can tell a crashed upload from a live one.
	 */
	reserveId(id: string, ttlMs: number, owner?: string): Promise<boolean>;
	/**
	 * Extend the reservation of `id` to `ttlMs` from now, only if `owner` still holds it: an
	 * upload that streams for longer than one TTL keeps its id (and its temp part) this way.
	 * Resolves whether it did; false when the reservation is gone or someone else's. Never
	 * brings back a reservation that lapsed or was released.
	 */
	refreshReservation(id: string, ttlMs: number, owner?: string): Promise<boolean>;
	/** Who holds the reservation of `id` (the `owner` given to reserveId), if anyone does. */
	reservationOwner(id: string): Promise<string | undefined>;
	/** Give up a reservation (a failed upload). */
	releaseReservation(id: string): Promise<void>;
	/**
	 * Create the drop's record and its `expired` tombstone, and drop the reservation.
	 * Never overwrites: resolves false when a record with this id exists.
	 */
	createDrop(id: string, drop: NewDrop): Promise<boolean>;
	/** Read a drop without changing anything (status). */
	readDrop(id: string): Promise<DropLookup>;
	/**
	 * Atomically take one use and register a reader of its file. On the last use the record is
	 * replaced by a `burned` tombstone. However many callers race, exactly `uses` succeed.
	 * `usesShown` (the count the caller's page showed, more than 1): when this claim would take
	 * the last use, take nothing and answer `last_use_withheld`, in the same atomic step.
	 */
	claimUse(id: string, readerTtlMs: number, usesShown?: number): Promise<UseClaim>;
	/**
	 * Burn an active drop at once (its sender's "Destroy now"): the record goes and a `burned`
	 * tombstone stays as after its last use. Downloads already reading keep their reader marks,
	 * so the file stays needed until they finish. Only one of racing callers gets `destroyed`.
	 */
	burnDrop(id: string): Promise<BurnOutcome>;
	/** Atomically mark the one-time preview as seen; only the first caller gets `claimed`. */
	claimPreview(id: string): Promise<PreviewClaim>;
	/**
	 * A download is still reading the file of `id`: extend the reader mark to `ttlMs` from now.
	 * Readers of one drop share one counter with one TTL, so this keeps every reader of `id`.
	 * Resolves whether there was a mark to extend; never creates one.
	 */
	refreshReader(id: string, ttlMs: number): Promise<boolean>;
	/** A download that claimed a use has finished reading; resolves how many readers remain. */
	releaseReader(id: string): Promise<number>;
	/** Whether anything still needs the file of `id`: a record, an upload or a reader. */
	isFileNeeded(id: string): Promise<boolean>;
	/**
	 * Add `bytes` to the storage-quota hold of `id`, creating it (one more live drop) if it has
	 * none; atomically, and only if afterwards every hold together stays within `limits`.
	 * Every instance on one store shares the totals, so together they never pass them.
	 */
	holdQuota(id: string, bytes: number, limits: QuotaLimits): Promise<QuotaHoldResult>;
	/** Set the hold of `id` to `bytes` (an upload's final size), if it has one; never creates. */
	settleQuota(id: string, bytes: number): Promise<void>;
	/** Give up the hold of `id` (upload failed, file shredded); resolves the bytes it held. */
	releaseQuota(id: string): Promise<number>;
	/** The running totals of every hold (cheap: for the quota checks and the metrics). */
	quotaUsage(): Promise<QuotaUsage>;
	/** Every hold's id (for the sweep, which releases those whose file nothing needs). */
	listQuotaHolds(): Promise<string[]>;
	/**
	 * Recompute the running totals from the holds themselves, so that totals can never drift
	 * from them for good whatever happened (the sweep runs it). Resolves the corrected totals.
	 */
	reconcileQuota(): Promise<QuotaUsage>;
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
