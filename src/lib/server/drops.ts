/**
 * The use cases of Raven Zero: create a drop, check its status, preview it once, open it for
 * download. Routes call these and shape the answer; every decision is here. Expected failures
 * come back as values (`Outcome`, refusal.ts); bugs throw, and a store outage becomes
 * STORE_UNAVAILABLE.
 *
 * Built from its dependencies (`createDrops`), so the unit suite runs it against the
 * in-process store and a temporary folder without a server; services.ts builds the
 * process's one instance at start-up.
 */
import type { Logger } from 'pino';
import type { Config } from './config';
import { decodeAccessKey } from './crypto/access-key';
import {
	accessForPassphrase,
	deriveFileKey,
	KdfBusyError,
	keysFromAccess,
	openMetadata,
	sealMetadata,
	type DropKeys
} from './crypto/keys';
import { encryptedSize } from './crypto/file-format';
import type { Wordlist } from './diceware';
import { decryptedStream } from './download-stream';
import type { FileStorage } from './files';
import { throughClientGate } from './client-gate';
import type { Limits } from './limits';
import { describeMalformed } from '../passphrase';
import { noMetrics, type Metrics } from './metrics';
import { PROCESS_OWNER } from './process-owner';
import { refuse, RefusalError, type Outcome, type Refusal } from './refusal';
import { StoreUnavailableError, type GoneState, type MetadataStore } from './store';
import { messageOf, type Transfers } from './transfers';
import { checkBeforeReading, receiveUpload, type UploadRequest } from './upload';
import { checkQuota, declaredFileBytes, UploadAllowance } from './quotas';
import { UPLOAD_FORM_CODES, unknownPassphraseAdvice, type ErrorCode } from '../errors';
import type { ContentsEntry, DropKind } from '../drop-bounds';

/** Tombstones outlive the drop's expiry by this much, so `status` can still say what happened. */
export const TOMBSTONE_GRACE_MS = 60 * 60_000;
/** How many fresh passphrases to try when one collides with a live drop (never expected). */
const PASSPHRASE_ATTEMPTS = 5;

/** What is sealed in the store about a drop; only the passphrase opens it. */
export type DropMetadata = {
	filename: string;
	size: number;
	mime_type: string;
	sha256: string;
	created_at: string;
	expiry_minutes: number;
	uses: number;
	/** What the drop holds; absent means `file` (and in drops sealed before it existed). */
	kind?: DropKind;
	/** The files of an `archive`, as the sender listed them (names sanitised). */
	contents?: ContentsEntry[];
};

/**
 * How a request names a drop: the passphrase as typed (curl, the seed's paths, the forms
 * without JavaScript; the server derives the access key with one scrypt), or the access key
 * the pages derived themselves (HKDF only here). Both are secrets of equal worth.
 */
export type DropName = string | { accessKey: string };

/** An upload from a client (its address, as the limits count it). */
export type UploadInput = UploadRequest & { address: string };

/** An upload, with the access key its sender derived, if it drew its own passphrase. */
export type CreateInput = UploadInput & { accessKey?: string };

export type CreatedDrop = {
	/** The passphrase the server drew; null when the sender drew it and sent its access key. */
	passphrase: string | null;
	metadata: DropMetadata;
	expiresAt: Date;
	/** UPLOAD_RATE_LIMIT's RateLimit-* headers after this upload. */
	headers?: Record<string, string>;
};

/**
 * Refusals of an upload whose work had started that are the client's own doing (its form,
 * its file, its connection): they count against REFUSED_UPLOAD_LIMIT. The server's own
 * refusals (quota, disk, store, load) do not.
 */
const CLIENT_MISTAKES_WHILE_READING: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
	...UPLOAD_FORM_CODES,
	'FILE_TOO_LARGE',
	'UNSUPPORTED_FILE_TYPE'
]);

export type DropStatus = {
	/** The normalised passphrase; null when the drop was named by its access key. */
	passphrase: string | null;
	status: 'active' | 'expired' | 'burned';
	remainingUses: number;
	expiresAt: Date | null;
	metadata: DropMetadata | null;
};

export type DropPreview = {
	passphrase: string;
	metadata: DropMetadata;
	remainingUses: number;
	expiresAt: Date;
};

export type DropDownload = {
	metadata: DropMetadata;
	/** The plaintext, decrypted while it streams; errors (aborting the response) on tampering. */
	body: ReadableStream<Uint8Array>;
	remainingUses: number;
};

/**
 * A download asked to respect the count its page showed (`usesShown`) that would have taken
 * the last use: nothing was taken, the page must show the count now (and its warning).
 */
export type LastUseWithheld = { lastUseWithheld: true };

/** What the use cases are built from. */
export type DropsDeps = {
	config: Config;
	store: MetadataStore;
	log: Logger;
	words: Wordlist;
	files: FileStorage;
	limits: Limits;
	transfers: Transfers;
	/** Counting hooks (metrics.ts); none by default. */
	metrics?: Metrics;
};

export type Drops = ReturnType<typeof createDrops>;

/** How long a request shed by a full scrypt queue is asked to wait: the queue drains in ~2 s. */
const BUSY_RETRY_AFTER_SECONDS = 2;

/**
 * Run a use case, turning a store outage into 503 STORE_UNAVAILABLE (it cannot be answered
 * safely) and a full scrypt queue into 503 SERVER_BUSY.
 */
async function guarded<T>(work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
	try {
		return await work();
	} catch (error) {
		if (error instanceof StoreUnavailableError) return refuse('STORE_UNAVAILABLE');
		if (error instanceof KdfBusyError) {
			return refuse('SERVER_BUSY', { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS });
		}
		throw error;
	}
}

export function createDrops({
	config,
	store,
	log,
	words,
	files,
	limits,
	transfers,
	metrics = noMetrics
}: DropsDeps) {
	const reservationTtlMs = config.reservationTtlSeconds * 1000;
	const kdfBounds = { queueLimit: config.kdfQueueLimit, maxWaitMs: config.kdfMaxWaitMs };
	const readerTtlMs = config.readerTtlSeconds * 1000;
	const uploads = { config, files };
	const quotaDeps = { config, store, limits };

	// ------------------------------------------------------------------------------ create

	/**
	 * Receive a multipart upload and store it encrypted under a new passphrase. The passphrase
	 * is drawn and its lookup id reserved before the first byte is read, so the file is
	 * encrypted while it streams in. On any failure nothing is left on disk or in the store.
	 * The upload takes a place in its client's gate (client-gate.ts) for as long as it runs.
	 */
	function create(input: UploadInput): Promise<Outcome<CreatedDrop & { passphrase: string }>>;
	function create(input: CreateInput): Promise<Outcome<CreatedDrop>>;
	function create(input: CreateInput): Promise<Outcome<CreatedDrop>> {
		return transfers.track(
			guarded(() => throughClientGate(input.address, () => admitAndStore(input)))
		);
	}

	/**
	 * What an upload costs is counted, not what is refused (issue #12). Refusals that need no
	 * work (the form's type, a declared length over a limit, the disk, the quotas) count
	 * nothing. UPLOAD_RATE_LIMIT is taken before the work starts, so racing uploads cannot
	 * pass it together, and given back unless a drop is stored (or an access key collided:
	 * that is a guess). A refusal for the client's own mistake after the work started (a
	 * passphrase drawn, the body read) counts against REFUSED_UPLOAD_LIMIT instead, and the
	 * bytes read count against UPLOAD_BYTE_LIMIT either way.
	 */
	async function admitAndStore(input: CreateInput): Promise<Outcome<CreatedDrop>> {
		const refusal = await checkBeforeReading(input, uploads);
		if (refusal) return refusal;
		const access = input.accessKey === undefined ? undefined : decodeAccessKey(input.accessKey);
		if (input.accessKey !== undefined && !access) return refuse('INVALID_ACCESS_KEY');
		const declared = declaredFileBytes(input.contentLength, config.maxFileSize);
		const full = await checkQuota(quotaDeps, declared);
		if (full) return full;
		// Again inside the gate: refusals counted while this upload waited may have used it up.
		const allowed = await limits.uploadAllowed(input.address);
		if (!allowed.ok) return allowed;
		const admitted = await limits.upload(input.address);
		if (!admitted.ok) return admitted;

		const allowance = new UploadAllowance(quotaDeps, input.address, declared);
		let outcome: Outcome<CreatedDrop> | undefined;
		try {
			const overBudget = await allowance.takeBudget();
			if (overBudget) return (outcome = overBudget);
			const reserved = access ? await reserveAccessKey(access) : await reservePassphrase();
			if (!reserved.ok) return (outcome = reserved);
			outcome = await receiveAndStore(input, reserved, allowance);
			return outcome.ok ? { ...outcome, headers: admitted.headers } : outcome;
		} finally {
			if (!outcome?.ok) await allowance.release();
			if (!outcome?.ok && outcome?.code !== 'DROP_EXISTS') {
				await limits.refundUpload(input.address).catch(() => undefined);
			}
			if (outcome && !outcome.ok && CLIENT_MISTAKES_WHILE_READING.has(outcome.code)) {
				await limits.recordRefusedUpload(input.address).catch(() => undefined);
			}
		}
	}

	async function receiveAndStore(
		input: CreateInput,
		{ passphrase, keys }: { passphrase: string | null; keys: DropKeys },
		allowance: UploadAllowance
	): Promise<Outcome<CreatedDrop>> {
		const id = keys.lookupId;
		let committed = false;
		let stored: Parameters<Metrics['uploadEnded']>[0] = null;
		metrics.uploadStarted();
		// Keep the reservation while the body streams in, however long that takes; stopped in
		// the `finally` below on every way out (created, refused, failed, thrown).
		const stopRefreshing = transfers.keepAlive(
			'reservation',
			() => store.refreshReservation(id, reservationTtlMs, PROCESS_OWNER),
			reservationTtlMs
		);
		try {
			const full = await allowance.hold(id);
			if (full) {
				await store.releaseReservation(id);
				return full;
			}
			const received = await receiveUpload(
				{
					...input,
					id,
					keyForSalt: (salt) => deriveFileKey(keys.master, salt),
					meter: allowance.meter
				},
				uploads
			);
			const createdAt = new Date();
			const expiresAt = new Date(createdAt.getTime() + received.expiryMinutes * 60_000);
			const metadata: DropMetadata = {
				filename: received.filename,
				size: received.size,
				mime_type: received.mimeType,
				sha256: received.sha256,
				created_at: createdAt.toISOString(),
				expiry_minutes: received.expiryMinutes,
				uses: received.uses,
				// Only what differs from a plain file, so a plain file's metadata stays as it was.
				...(received.kind === 'file' ? {} : { kind: received.kind }),
				...(received.contents ? { contents: received.contents } : {})
			};
			await received.commit();
			committed = true;
			const created = await store.createDrop(id, {
				meta: sealMetadata(keys.metaKey, id, metadata),
				expiresAt: expiresAt.getTime(),
				uses: received.uses,
				tombstoneUntil: expiresAt.getTime() + TOMBSTONE_GRACE_MS
			});
			if (!created) throw new Error('A reserved lookup id was taken by another drop');
			stored = { bytes: metadata.size, storedBytes: encryptedSize(metadata.size) };
			await allowance
				.settle(received.size)
				.catch((error: unknown) =>
					log.warn({ event: 'quota_settle_failed', error: messageOf(error) })
				);
			log.info({
				event: 'drop_created',
				size: metadata.size,
				mime_type: metadata.mime_type,
				expiry_minutes: metadata.expiry_minutes,
				uses: metadata.uses,
				stored_bytes: encryptedSize(metadata.size)
			});
			return { ok: true, passphrase, metadata, expiresAt };
		} catch (error) {
			await store.releaseReservation(id).catch(() => undefined);
			if (committed) await files.removeStored(id).catch(() => undefined);
			if (error instanceof RefusalError) return error.refusal;
			throw error;
		} finally {
			stopRefreshing();
			metrics.uploadEnded(stored);
		}
	}

	type Reserved = Outcome<{ passphrase: string | null; keys: DropKeys }>;

	/** Draw a passphrase whose lookup id nobody holds, and hold it for this upload. */
	async function reservePassphrase(): Promise<Reserved> {
		for (let attempt = 0; attempt < PASSPHRASE_ATTEMPTS; attempt++) {
			const passphrase = words.generate(config.passphraseWords);
			const access = await accessForPassphrase(passphrase, kdfBounds, metrics);
			const keys = await keysFromAccess(access, config.serverSecret);
			if (await store.reserveId(keys.lookupId, reservationTtlMs, PROCESS_OWNER)) {
				return { ok: true, passphrase, keys };
			}
			log.warn({ event: 'passphrase_collision', attempt });
		}
		throw new Error('No free passphrase after several attempts');
	}

	/**
	 * Hold the lookup id of an access key the sender derived from a passphrase it drew. A live
	 * drop, tombstone or upload under it is DROP_EXISTS (409): the page draws again. That
	 * answer tells whether a drop exists, so these uploads are guesses too: the upload limit
	 * bounds them (README, "Security model").
	 */
	async function reserveAccessKey(access: Buffer): Promise<Reserved> {
		const keys = await keysFromAccess(access, config.serverSecret);
		if (!(await store.reserveId(keys.lookupId, reservationTtlMs, PROCESS_OWNER))) {
			log.warn({ event: 'access_key_collision' });
			return refuse('DROP_EXISTS');
		}
		return { ok: true, passphrase: null, keys };
	}

	// ----------------------------------------------------------------------------- lookups

	type Resolved = { passphrase: string | null; keys: DropKeys };

	/** A drop's name that passed its syntax check: what is left is deriving its keys. */
	type Named = { passphrase: string; access?: undefined } | { passphrase: null; access: Buffer };

	/**
	 * Check the name's syntax (cheap: a split and set lookups, or a base64url decode). Malformed
	 * input is a 400 (for a passphrase, naming the unknown words, with suggestions for the
	 * first few); it is not a failed lookup, but it is rate-limited on its own, and the limit is
	 * counted before anything is worked out for the answer, so a client past it costs one
	 * counter and gets its 429 at once.
	 */
	async function readName(name: DropName, address: string): Promise<Outcome<Named>> {
		if (typeof name !== 'string') {
			const access = decodeAccessKey(name.accessKey);
			if (access) return { ok: true, passphrase: null, access };
			const limit = await limits.malformed(address);
			return limit.ok ? refuse('INVALID_ACCESS_KEY') : limit;
		}
		const check = words.check(name);
		if (check.ok) return { ok: true, passphrase: check.passphrase };
		const limit = await limits.malformed(address);
		if (!limit.ok) return limit;
		const unknownWords = check.reason === 'unknown_words' ? words.explain(check.unknown) : [];
		const detail = describeMalformed(
			check.reason === 'unknown_words'
				? { reason: 'unknown_words', unknown: unknownWords }
				: { reason: check.reason }
		);
		return refuse('INVALID_PASSPHRASE', { detail, unknownWords });
	}

	/** A well-formed name's keys: one scrypt (shed when its queue is full) for a passphrase. */
	async function resolve(named: Named): Promise<Resolved> {
		const access =
			named.passphrase === null
				? named.access
				: await accessForPassphrase(named.passphrase, kdfBounds, metrics);
		return {
			passphrase: named.passphrase,
			keys: await keysFromAccess(access, config.serverSecret)
		};
	}

	/** The answer for a drop that is not there: a tombstone says why; unknown counts a failure. */
	async function gone(state: GoneState, address: string): Promise<Refusal> {
		if (state === 'burned') return refuse('ALREADY_DOWNLOADED');
		if (state === 'expired') return refuse('EXPIRED');
		const { triesLeft, blockSeconds } = await limits.recordLookupFailure(address);
		return refuse('UNKNOWN_PASSPHRASE', {
			detail: `No drop has this passphrase. ${unknownPassphraseAdvice(triesLeft, blockSeconds)}`,
			triesLeft,
			blockSeconds
		});
	}

	/**
	 * A lookup by a client: its name's syntax checked first (malformed input never waits in
	 * the gate), then through its gate (client-gate.ts), with the brute-force block checked
	 * again once it holds its place, since failures counted while it waited may have earned
	 * one. The gate is held until the outcome is known (and a failure counted), not while a
	 * download streams.
	 */
	function lookup<T>(
		input: DropName,
		address: string,
		work: (resolved: Resolved) => Promise<Outcome<T>>
	): Promise<Outcome<T>> {
		return guarded(async () => {
			const named = await readName(input, address);
			if (!named.ok) return named;
			return throughClientGate(address, async () => {
				const block = await limits.lookupBlock(address);
				if (!block.ok) return block;
				return work(await resolve(named));
			});
		});
	}

	/** What is waiting under a passphrase, without consuming anything. */
	function status(input: DropName, address: string): Promise<Outcome<DropStatus>> {
		return lookup(input, address, async ({ passphrase, keys }) => {
			const found = await store.readDrop(keys.lookupId);
			if (found.state === 'unknown') return gone('unknown', address);
			if (found.state !== 'active') {
				const ended = { remainingUses: 0, expiresAt: null, metadata: null };
				return { ok: true, passphrase, status: found.state, ...ended };
			}
			return {
				ok: true,
				passphrase,
				status: 'active',
				remainingUses: found.record.usesLeft,
				expiresAt: new Date(found.record.expiresAt),
				metadata: openMetadata<DropMetadata>(keys.metaKey, keys.lookupId, found.record.meta)
			};
		});
	}

	/**
	 * The one-time preview: only the first caller sees the metadata. By passphrase only (the
	 * seed's GET path): its answer carries the download link, which holds the passphrase.
	 */
	function preview(input: string, address: string): Promise<Outcome<DropPreview>> {
		return lookup(input, address, async ({ passphrase, keys }) => {
			if (passphrase === null) throw new Error('A lookup by passphrase has its passphrase');
			const claim = await store.claimPreview(keys.lookupId);
			if (claim.state === 'already_previewed') return refuse('PREVIEW_ALREADY_SEEN');
			if (claim.state !== 'claimed') return gone(claim.state, address);
			return {
				ok: true,
				passphrase,
				metadata: openMetadata<DropMetadata>(keys.metaKey, keys.lookupId, claim.record.meta),
				remainingUses: claim.record.usesLeft,
				expiresAt: new Date(claim.record.expiresAt)
			};
		});
	}

	/**
	 * Take one use and stream the decrypted file. The use is taken before the first byte, so
	 * a download that is interrupted still counts (the seed's rule). On the last use the record
	 * is already gone; the file is shredded once no download is still reading it.
	 * `usesShown`: the count of uses left the caller's page showed (the retrieval form without
	 * JavaScript, which cannot update it). When it is more than 1 and this download would take
	 * the last use, nothing is taken (LastUseWithheld): the decision is part of the one atomic
	 * claim, so it costs no second lookup (no second scrypt) and no download can slip between.
	 */
	async function download(input: DropName, address: string): Promise<Outcome<DropDownload>> {
		const result = await downloadAsShown(input, address, undefined);
		if ('lastUseWithheld' in result) throw new Error('Withheld without a count to respect');
		return result;
	}

	/** download(), respecting the count of uses left the caller's page showed (`usesShown`). */
	function downloadAsShown(
		input: DropName,
		address: string,
		usesShown: number | undefined
	): Promise<Outcome<DropDownload | LastUseWithheld>> {
		return lookup(input, address, async ({ keys }) => {
			const id = keys.lookupId;
			const claim = await store.claimUse(id, readerTtlMs, usesShown);
			if (claim.state === 'last_use_withheld') return { ok: true, lastUseWithheld: true };
			if (claim.state !== 'claimed') return gone(claim.state, address);

			// From here until its reader is released, this download holds up a shutdown and
			// keeps its reader mark alive. Every way out below ends in finish(), which stops the
			// refresh before it releases the reader.
			const stopRefreshing = transfers.keepAlive(
				'reader',
				() => store.refreshReader(id, readerTtlMs),
				readerTtlMs
			);
			let released!: () => void;
			void transfers.track(new Promise<void>((resolve) => (released = resolve)));
			let storedBytes = 0;
			const finish = once(() => {
				stopRefreshing();
				return finishReading(id, storedBytes).finally(released);
			});
			let metadata: DropMetadata;
			try {
				metadata = openMetadata<DropMetadata>(keys.metaKey, id, claim.record.meta);
			} catch {
				finish();
				log.error({ event: 'INTEGRITY_CHECK_FAILED', part: 'metadata' });
				return refuse('INTEGRITY_CHECK_FAILED');
			}
			let file: Awaited<ReturnType<FileStorage['openStored']>>;
			try {
				file = await files.openStored(id);
			} catch (error) {
				// Not ENOENT (EACCES, EIO): release the reader so a burned file is still shredded.
				finish();
				throw error;
			}
			if (!file) {
				finish();
				log.error({ event: 'file_missing' });
				return refuse('FILE_MISSING');
			}
			storedBytes = file.size;
			if (claim.record.usesLeft === 0) log.info({ event: 'drop_burned', reason: 'last_use' });
			return {
				ok: true,
				metadata,
				remainingUses: claim.record.usesLeft,
				body: decryptedStream({
					source: file.stream,
					keyForSalt: (salt) => deriveFileKey(keys.master, salt),
					expectedSha256: metadata.sha256,
					onDone: (result) => {
						metrics.downloadEnded(result);
						finish();
					},
					log
				})
			};
		});
	}

	/**
	 * "Destroy now": burn the drop at once, whatever uses are left. The capability is the
	 * passphrase or access key, since whoever holds it could take the file anyway. A download
	 * already streaming finishes (its use was taken); the file is shredded as soon as no
	 * download reads it, here or when the last reader finishes.
	 */
	function destroy(input: DropName, address: string): Promise<Outcome<DropStatus>> {
		return lookup(input, address, async ({ passphrase, keys }) => {
			const id = keys.lookupId;
			const burn = await store.burnDrop(id);
			if (burn.state !== 'destroyed') return gone(burn.state, address);
			log.info({ event: 'drop_burned', reason: 'destroyed' });
			if (!(await store.isFileNeeded(id))) {
				if (await files.removeStored(id)) log.info({ event: 'file_shredded', reason: 'burned' });
				await store.releaseQuota(id);
			}
			const ended = { remainingUses: 0, expiresAt: null, metadata: null };
			return { ok: true, passphrase, status: 'burned', ...ended };
		});
	}

	/** Run `task` at most once; its failure is logged, never thrown. */
	function once(task: () => Promise<void>): () => void {
		let done = false;
		return () => {
			if (done) return;
			done = true;
			task().catch((error: unknown) =>
				log.error({ event: 'finish_reading_failed', error: messageOf(error) })
			);
		};
	}

	/** A download stopped reading: shred the file if it was the last reader of a burned drop. */
	async function finishReading(id: string, storedBytes: number): Promise<void> {
		const readersLeft = await store.releaseReader(id);
		if (readersLeft > 0) return;
		if (await store.isFileNeeded(id)) return;
		if (await files.removeStored(id)) {
			log.info({ event: 'file_shredded', reason: 'burned' });
			metrics.fileShredded('last_download', storedBytes);
		}
		// The bytes are off the disk: the quota has them back at once, not at the next sweep.
		await store.releaseQuota(id);
	}

	return { create, status, preview, download, downloadAsShown, destroy };
}
