/**
 * The use cases of Raven Zero: create a drop, check its status, preview it once, open it for
 * download, and destroy what is left. Routes call these and shape the answer; every decision
 * is here. Expected failures come back as values (`Outcome`); bugs and store outages throw.
 */
import { createHash, randomBytes } from 'node:crypto';
import { pipeline, Transform, type Readable, type TransformCallback } from 'node:stream';
import { getConfig } from './config';
import {
	deriveFileKey,
	deriveKeys,
	openMetadata,
	sealMetadata,
	type DropKeys
} from './crypto/keys';
import { DecryptStream, encryptedSize, IntegrityError } from './crypto/file-format';
import { wordlist, type PassphraseCheck } from './diceware';
import { openStored, shredStored } from './files';
import { throughClientGate } from './client-gate';
import {
	checkLookupBlock,
	limitMalformed,
	lookupBlockedDetail,
	recordLookupFailure
} from './limits';
import { log } from './log';
import { PROCESS_OWNER } from './process-owner';
import { store, StoreUnavailableError, type GoneState } from './store';
import { checkBeforeReading, receiveUpload, UploadError, type UploadRequest } from './upload';

/** Tombstones outlive the drop's expiry by this much, so `status` can still say what happened. */
export const TOMBSTONE_GRACE_MS = 60 * 60_000;
/**
 * An upload's reservation of its lookup id (RESERVATION_TTL_SECONDS, 10 min by default) and a
 * download's reader mark on its file (READER_TTL_SECONDS, 1 h) are store entries with a TTL, so
 * that they lapse when their process dies. A live transfer refreshes its entry every third of
 * the TTL (`keepAlive`): a big file on a slow link may take longer than one TTL, and without
 * the refresh its temp part could be removed as a crash's leftover (reservation) or its file
 * shredded by the expiry sweep while it is still being read (reader).
 */
const reservationTtlMs = () => getConfig().reservationTtlSeconds * 1000;
const readerTtlMs = () => getConfig().readerTtlSeconds * 1000;
const REFRESHES_PER_TTL = 3;
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
};

export type Failure = {
	ok: false;
	status: number;
	code: string;
	detail: string;
	headers?: Record<string, string>;
	extra?: Record<string, unknown>;
};
export type Outcome<T> = ({ ok: true } & T) | Failure;

function fail(
	status: number,
	code: string,
	detail: string,
	more: { headers?: Record<string, string>; extra?: Record<string, unknown> } = {}
): Failure {
	return { ok: false, status, code, detail, ...more };
}

const STORE_DOWN = () =>
	fail(
		503,
		'STORE_UNAVAILABLE',
		'The service cannot reach its database right now. Try again shortly.'
	);

// --------------------------------------------------------------------------------- create

export type CreateInput = UploadRequest;

export type CreatedDrop = {
	passphrase: string;
	metadata: DropMetadata;
	expiresAt: Date;
};

/**
 * Receive a multipart upload and store it encrypted under a new passphrase. The passphrase
 * is drawn and its lookup id reserved before the first byte is read, so the file is
 * encrypted while it streams in. On any failure nothing is left on disk or in the store.
 */
export function create(input: CreateInput): Promise<Outcome<CreatedDrop>> {
	return track(receiveAndStore(input));
}

async function receiveAndStore(input: CreateInput): Promise<Outcome<CreatedDrop>> {
	const refusal = await checkBeforeReading(input);
	if (refusal)
		return fail(refusal.status, refusal.code, refusal.message, { headers: refusal.headers });
	let keys: DropKeys;
	let passphrase: string;
	try {
		({ passphrase, keys } = await reservePassphrase());
	} catch (error) {
		if (error instanceof StoreUnavailableError) return STORE_DOWN();
		throw error;
	}
	const id = keys.lookupId;
	const salt = randomBytes(16);
	let committed = false;
	// Keep the reservation while the body streams in, however long that takes; stopped in the
	// `finally` below on every way out (created, refused, failed, thrown).
	const ttlMs = reservationTtlMs();
	const stopRefreshing = keepAlive(
		'reservation',
		() => store().refreshReservation(id, ttlMs, PROCESS_OWNER),
		ttlMs / REFRESHES_PER_TTL
	);
	try {
		const received = await receiveUpload({
			...input,
			id,
			fileKey: await deriveFileKey(keys.master, salt),
			salt
		});
		const createdAt = new Date();
		const expiresAt = new Date(createdAt.getTime() + received.expiryMinutes * 60_000);
		const metadata: DropMetadata = {
			filename: received.filename,
			size: received.size,
			mime_type: received.mimeType,
			sha256: received.sha256,
			created_at: createdAt.toISOString(),
			expiry_minutes: received.expiryMinutes,
			uses: received.uses
		};
		await received.commit();
		committed = true;
		const created = await store().createDrop(id, {
			meta: sealMetadata(keys.metaKey, id, metadata),
			expiresAt: expiresAt.getTime(),
			uses: received.uses,
			tombstoneUntil: expiresAt.getTime() + TOMBSTONE_GRACE_MS
		});
		if (!created) throw new Error('A reserved lookup id was taken by another drop');
		log().info({
			event: 'drop_created',
			size: metadata.size,
			mime_type: metadata.mime_type,
			expiry_minutes: metadata.expiry_minutes,
			uses: metadata.uses,
			stored_bytes: encryptedSize(metadata.size)
		});
		return { ok: true, passphrase, metadata, expiresAt };
	} catch (error) {
		await store()
			.releaseReservation(id)
			.catch(() => undefined);
		if (committed) await shredStored(id).catch(() => undefined);
		if (error instanceof UploadError) {
			return fail(error.status, error.code, error.message, { headers: error.headers });
		}
		if (error instanceof StoreUnavailableError) return STORE_DOWN();
		throw error;
	} finally {
		stopRefreshing();
	}
}

/** Draw a passphrase whose lookup id nobody holds, and hold it for this upload. */
async function reservePassphrase(): Promise<{ passphrase: string; keys: DropKeys }> {
	const { passphraseWords, serverSecret } = getConfig();
	const words = requireWordlist();
	for (let attempt = 0; attempt < PASSPHRASE_ATTEMPTS; attempt++) {
		const passphrase = words.generate(passphraseWords);
		const keys = await deriveKeys(passphrase, serverSecret);
		if (await store().reserveId(keys.lookupId, reservationTtlMs(), PROCESS_OWNER)) {
			return { passphrase, keys };
		}
		log().warn({ event: 'passphrase_collision', attempt });
	}
	throw new Error('No free passphrase after several attempts');
}

function requireWordlist() {
	const words = wordlist();
	if (!words) throw new Error('The word list is used before init() loaded it');
	return words;
}

// -------------------------------------------------------------------------------- lookups

type Resolved = { passphrase: string; keys: DropKeys };

/** Explain a malformed passphrase in one sentence, naming the words and what they may be. */
function describeMalformed(check: Exclude<PassphraseCheck, { ok: true }>): string {
	if (check.reason !== 'unknown_words') {
		return {
			empty: 'Enter the passphrase you were given.',
			too_long: 'That is far longer than any passphrase.',
			word_count: 'A passphrase has 3 to 10 words, separated by hyphens or spaces.'
		}[check.reason];
	}
	return check.unknown
		.map(({ word, suggestions }) => {
			const hint =
				suggestions.length > 0 ? ` Did you mean ${suggestions.slice(0, 3).join(', ')}?` : '';
			return `"${word.slice(0, 40)}" is not in the word list.${hint}`;
		})
		.join(' ');
}

/**
 * Check the words (cheap, before any scrypt) and derive the keys. Malformed input is a 400
 * that names the unknown words with suggestions; it is not a failed lookup, but it is
 * rate-limited on its own.
 */
async function resolve(input: string, address: string): Promise<Outcome<Resolved>> {
	const check = requireWordlist().check(input);
	if (!check.ok) {
		const limit = await limitMalformed(address);
		if (!limit.allowed) {
			return fail(
				429,
				'RATE_LIMITED',
				`Too many malformed passphrases. Try again in ${limit.retryAfterSeconds} s.`,
				{
					headers: limit.headers
				}
			);
		}
		const unknownWords: { position: number; word: string; suggestions: string[] }[] =
			check.reason === 'unknown_words'
				? check.unknown.map(({ position, word, suggestions }) => ({ position, word, suggestions }))
				: [];
		return fail(400, 'INVALID_PASSPHRASE', describeMalformed(check), {
			extra: { unknown_words: unknownWords }
		});
	}
	const keys = await deriveKeys(check.passphrase, getConfig().serverSecret);
	return { ok: true, passphrase: check.passphrase, keys };
}

/** The answer for a drop that is not there: a tombstone says why; unknown counts a failure. */
async function gone(state: GoneState, address: string): Promise<Failure> {
	if (state === 'burned') {
		return fail(
			410,
			'ALREADY_DOWNLOADED',
			'This drop has been downloaded as many times as allowed and is destroyed. If that was not you, the passphrase has leaked.'
		);
	}
	if (state === 'expired') return fail(410, 'EXPIRED', 'This drop expired and is destroyed.');
	await recordLookupFailure(address);
	return fail(
		404,
		'UNKNOWN_PASSPHRASE',
		'No drop has this passphrase. Check it for typos; repeated failures block this address for a while.'
	);
}

/** Run a lookup, turning a store outage into 503 (the lookup cannot be answered safely). */
async function guarded<T>(work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
	try {
		return await work();
	} catch (error) {
		if (error instanceof StoreUnavailableError) return STORE_DOWN();
		throw error;
	}
}

/**
 * A lookup by a client: through its gate (client-gate.ts), with the brute-force block checked
 * again once it holds its place, since failures counted while it waited may have earned one.
 * The gate is held until the outcome is known (and a failure counted), not while a download
 * streams.
 */
function lookup<T>(address: string, work: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
	return guarded(() =>
		throughClientGate(address, async () => {
			const block = await checkLookupBlock(address);
			if (!block.allowed) {
				return fail(429, 'TOO_MANY_FAILED_LOOKUPS', lookupBlockedDetail(block.retryAfterSeconds), {
					headers: block.headers
				});
			}
			return work();
		})
	);
}

export type DropStatus = {
	passphrase: string;
	status: 'active' | 'expired' | 'burned';
	remainingUses: number;
	expiresAt: Date | null;
	metadata: DropMetadata | null;
};

/** What is waiting under a passphrase, without consuming anything. */
export function status(input: string, address: string): Promise<Outcome<DropStatus>> {
	return lookup(address, async () => {
		const resolved = await resolve(input, address);
		if (!resolved.ok) return resolved;
		const { passphrase, keys } = resolved;
		const found = await store().readDrop(keys.lookupId);
		if (found.state === 'unknown') return gone('unknown', address);
		if (found.state !== 'active') {
			return {
				ok: true,
				passphrase,
				status: found.state,
				remainingUses: 0,
				expiresAt: null,
				metadata: null
			};
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

export type DropPreview = {
	passphrase: string;
	metadata: DropMetadata;
	remainingUses: number;
	expiresAt: Date;
};

/** The one-time preview: only the first caller sees the metadata. */
export function preview(input: string, address: string): Promise<Outcome<DropPreview>> {
	return lookup(address, async () => {
		const resolved = await resolve(input, address);
		if (!resolved.ok) return resolved;
		const { passphrase, keys } = resolved;
		const claim = await store().claimPreview(keys.lookupId);
		if (claim.state === 'already_previewed') {
			return fail(
				410,
				'PREVIEW_ALREADY_SEEN',
				'The preview of this drop has already been seen. It can still be downloaded.'
			);
		}
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

export type DropDownload = {
	metadata: DropMetadata;
	/** The plaintext, decrypted while it streams; errors (aborting the response) on tampering. */
	body: ReadableStream<Uint8Array>;
	remainingUses: number;
};

/**
 * Take one use and stream the decrypted file. The use is taken before the first byte, so a
 * download that is interrupted still counts (the seed's rule). On the last use the record is
 * already gone; the file is shredded once no download is still reading it.
 */
export function download(input: string, address: string): Promise<Outcome<DropDownload>> {
	return lookup(address, async () => {
		const resolved = await resolve(input, address);
		if (!resolved.ok) return resolved;
		const { keys } = resolved;
		const id = keys.lookupId;
		const ttlMs = readerTtlMs();
		const claim = await store().claimUse(id, ttlMs);
		if (claim.state !== 'claimed') return gone(claim.state, address);

		// From here until its reader is released, this download holds up a shutdown (settle())
		// and keeps its reader mark alive. Every way out below ends in finish(), which stops the
		// refresh before it releases the reader.
		const stopRefreshing = keepAlive(
			'reader',
			() => store().refreshReader(id, ttlMs),
			ttlMs / REFRESHES_PER_TTL
		);
		let released!: () => void;
		void track(new Promise<void>((resolve) => (released = resolve)));
		const finish = once(() => {
			stopRefreshing();
			return finishReading(id).finally(released);
		});
		let metadata: DropMetadata;
		try {
			metadata = openMetadata<DropMetadata>(keys.metaKey, id, claim.record.meta);
		} catch {
			finish();
			log().error({ event: 'INTEGRITY_CHECK_FAILED', part: 'metadata' });
			return fail(500, 'INTEGRITY_CHECK_FAILED', 'This drop is damaged and cannot be opened.');
		}
		let file: Awaited<ReturnType<typeof openStored>>;
		try {
			file = await openStored(id);
		} catch (error) {
			// Not ENOENT (EACCES, EIO): release the reader so a burned file is still shredded.
			finish();
			throw error;
		}
		if (!file) {
			finish();
			log().error({ event: 'file_missing' });
			return fail(410, 'FILE_MISSING', 'The file of this drop is no longer on this server.');
		}
		if (claim.record.usesLeft === 0) log().info({ event: 'drop_burned', reason: 'last_use' });
		return {
			ok: true,
			metadata,
			remainingUses: claim.record.usesLeft,
			body: decryptToWeb(file.stream, keys.master, metadata.sha256, finish)
		};
	});
}

// ------------------------------------------------------------------------ stopping cleanly

/**
 * Store work that a shutdown must let finish: uploads being received (their failure path
 * releases the reservation and removes the part) and downloads from taking a use until their
 * reader is released (the last reader of a burned drop shreds its file). shutdown.ts waits for
 * them before it closes the store. Without this, a transfer cut off by SHUTDOWN_TIMEOUT met a
 * closed store: a 500 in the log, and a burned drop's file kept until its reader mark expired
 * (an hour) instead of being shredded.
 */
const inFlight = new Set<Promise<unknown>>();

function track<T>(work: Promise<T>): Promise<T> {
	inFlight.add(work);
	const forget = () => inFlight.delete(work);
	void work.then(forget, forget);
	return work;
}

/** Resolve when the work in flight has finished, or after `timeoutMs`, whichever is first. */
export async function settle(timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (inFlight.size > 0 && Date.now() < deadline) {
		let timer: NodeJS.Timeout | undefined;
		const timeout = new Promise<void>((resolve) => {
			timer = setTimeout(resolve, deadline - Date.now());
		});
		await Promise.race([Promise.allSettled([...inFlight]), timeout]);
		clearTimeout(timer);
	}
}

/**
 * Call `refresh` every `everyMs` until the returned stop function is called (idempotent). A
 * refresh that fails (the store is down) is logged and tried again at the next tick, since
 * the entry outlives two missed refreshes; one that resolves false (the entry is gone: it
 * lapsed, or was taken over or released) is logged once and ends the refreshing, as nothing is
 * left to keep. Never throws and never leaves a rejection unhandled; the timer is unref()ed so
 * it cannot keep the process alive, and a result that arrives after stop() is ignored (a
 * reservation that createDrop has just taken over is not "lost").
 */
function keepAlive(
	what: 'reservation' | 'reader',
	refresh: () => Promise<boolean>,
	everyMs: number
) {
	let stopped = false;
	let pending = false;
	const stop = () => {
		stopped = true;
		clearInterval(timer);
	};
	const tick = () => {
		// A refresh still waiting on a slow store is enough; do not pile more on it.
		if (stopped || pending) return;
		pending = true;
		// Through a promise, so that even a synchronous throw (store() after the store was
		// closed at shutdown) is caught below rather than thrown out of the timer.
		Promise.resolve()
			.then(refresh)
			.then((held) => {
				if (held || stopped) return;
				log().warn({ event: `${what}_refresh_lost` });
				stop();
			})
			.catch((error: unknown) => {
				if (stopped) return;
				log().warn({
					event: `${what}_refresh_failed`,
					error: error instanceof Error ? error.message : String(error)
				});
			})
			.finally(() => {
				pending = false;
			});
	};
	const timer = setInterval(tick, everyMs);
	timer.unref();
	return stop;
}

function once(task: () => Promise<void>): () => void {
	let done = false;
	return () => {
		if (done) return;
		done = true;
		task().catch((error: unknown) =>
			log().error({
				event: 'finish_reading_failed',
				error: error instanceof Error ? error.message : String(error)
			})
		);
	};
}

/** A download stopped reading: shred the file if it was the last reader of a burned drop. */
async function finishReading(id: string): Promise<void> {
	const readersLeft = await store().releaseReader(id);
	if (readersLeft > 0) return;
	if (await store().isFileNeeded(id)) return;
	if (await shredStored(id)) log().info({ event: 'file_shredded', reason: 'burned' });
}

/**
 * Hash everything that passes and hold the last piece back until the whole-file SHA-256
 * matches the one recorded at upload, so a mismatch means the client never gets the end.
 */
class VerifySha256 extends Transform {
	readonly #hash = createHash('sha256');
	readonly #expected: string;
	#held: Buffer | undefined;

	constructor(expected: string) {
		super();
		this.#expected = expected;
	}

	override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
		this.#hash.update(chunk);
		const previous = this.#held;
		this.#held = chunk;
		done(null, previous);
	}

	override _flush(done: TransformCallback): void {
		if (this.#hash.digest('hex') !== this.#expected) {
			done(new IntegrityError('SHA-256 of the decrypted file does not match the upload'));
			return;
		}
		done(null, this.#held);
	}
}

/**
 * Stored file -> RZF1 decryption -> SHA-256 check -> web stream for the Response. Any
 * failure errors the stream, which aborts the HTTP response mid-transfer (the client sees a
 * broken download, never wrong bytes), and is logged as INTEGRITY_CHECK_FAILED.
 */
function decryptToWeb(
	source: Readable,
	master: Buffer,
	expectedSha256: string,
	onDone: () => void
): ReadableStream<Uint8Array> {
	const output = pipeline(
		source,
		new DecryptStream({ keyForSalt: (salt) => deriveFileKey(master, salt) }),
		new VerifySha256(expectedSha256),
		(error) => {
			if (error instanceof IntegrityError) {
				log().error({ event: 'INTEGRITY_CHECK_FAILED', part: 'file', error: error.message });
			}
		}
	);
	const iterator = output[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
	return new ReadableStream<Uint8Array>(
		{
			async pull(controller) {
				try {
					const { value, done } = await iterator.next();
					if (done) {
						controller.close();
						onDone();
					} else {
						controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
					}
				} catch (error) {
					controller.error(error);
					onDone();
				}
			},
			async cancel() {
				// The client went away: stop reading the file and let it be shredded if due.
				await iterator.return?.();
				source.destroy();
				onDone();
			}
		},
		{ highWaterMark: 0 }
	);
}
