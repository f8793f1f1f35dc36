/**
 * The sender's live view of the drop it just made (issue #13): the result card asks the
 * server what became of the drop, and can destroy it.
 *
 * It asks `POST /status` with the drop's access key in `X-Access-Key`, never the passphrase
 * (the send page drew the passphrase and derived the key; a drop the server drew gets its key
 * derived here). By access key the server runs HKDF only, no scrypt. A lookup of a drop that
 * exists, or of its tombstone, never counts as a failed lookup; only an unknown key would. So
 * the watch never asks about a drop the server may have forgotten: its tombstone is kept
 * until an hour after its expiry (drops.ts TOMBSTONE_GRACE_MS), and the watch stops asking
 * well before that, and as soon as nothing can be taken any more.
 *
 * Gently: every WATCH_INTERVAL_MS while the tab is visible (12 a minute against the default
 * LOOKUP_RATE_LIMIT of 120), nothing while it is hidden, once at once when it shows again,
 * and longer and longer waits after a 429 or 503 (their Retry-After, at least) or a broken
 * network.
 */
import { explain, NETWORK_FAILURE, readFailure, type SentDrop } from './api-client';
import { deriveAccessKey } from './access-key';
import type { DropStatusBody } from './schemas';

/** What became of the drop: `open` while it can be taken; the rest are ends. */
export type DropFate = 'open' | 'taken' | 'expired' | 'destroyed' | 'gone';

/** How often the card asks while its tab is visible. */
export const WATCH_INTERVAL_MS = 5000;

/** The longest wait between two asks after refusals or network failures. */
const MAX_BACKOFF_MS = 5 * 60_000;

/**
 * How long after the drop's expiry the watch may still ask: its tombstone answers until an
 * hour after it (TOMBSTONE_GRACE_MS); this leaves room for a sender's clock that runs late.
 */
const ASK_UNTIL_AFTER_EXPIRY_MS = 30 * 60_000;

/** Where the watch asks (the app's paths, resolved by the page). */
export type WatchPaths = { status: string; destroy: string };

export class DropWatch {
	readonly drop: SentDrop;
	readonly #paths: WatchPaths;
	#fate = $state<DropFate>('open');
	#remaining = $state(0);
	/** The last moment the drop was known to be open (ms since the epoch). */
	#seenOpenAt = $state(Date.now());
	/** When the page learnt that the drop had ended. */
	#endedAt = $state<number | null>(null);
	/** A key to ask with: the drop can be followed and destroyed. */
	#live = $state(false);
	#destroying = $state(false);
	#problem = $state<string | null>(null);

	#key: string | null = null;
	#running = false;
	#asking = false;
	#timer: ReturnType<typeof setTimeout> | undefined;
	#delay = WATCH_INTERVAL_MS;
	#lastAsk = 0;

	constructor(drop: SentDrop, paths: WatchPaths) {
		this.drop = drop;
		this.#paths = paths;
		this.#remaining = drop.uses;
	}

	get fate(): DropFate {
		return this.#fate;
	}
	/** The drop can still be downloaded (as far as the page knows). */
	get open(): boolean {
		return this.#fate === 'open';
	}
	get remaining(): number {
		return this.#remaining;
	}
	get used(): number {
		return this.drop.uses - this.#remaining;
	}
	get seenOpenAt(): number {
		return this.#seenOpenAt;
	}
	get endedAt(): number | null {
		return this.#endedAt;
	}
	/** The page has the drop's key: it follows the drop and can destroy it. */
	get live(): boolean {
		return this.#live;
	}
	get destroying(): boolean {
		return this.#destroying;
	}
	/** Why the last "Destroy now" did not work, as a sentence. */
	get problem(): string | null {
		return this.#problem;
	}

	/** Start following the drop; the function returned stops it (the card went away). */
	start(): () => void {
		this.#running = true;
		document.addEventListener('visibilitychange', this.#onVisibility);
		void this.#keyOfDrop().then((key) => {
			if (!key || !this.#running) return;
			this.#key = key;
			this.#live = true;
			this.#lastAsk = Date.now();
			this.#schedule();
		});
		return () => this.#stop();
	}

	/** "Destroy now": burn the drop at once (`POST /destroy`, by access key). */
	async destroy(): Promise<void> {
		const key = this.#key;
		if (!key || !this.open || this.#destroying) return;
		this.#destroying = true;
		this.#problem = null;
		try {
			const response = await post(this.#paths.destroy, key);
			if (response.ok) {
				await response.text(); // its status, burned: read to the end, as every answer
				return this.#end('destroyed');
			}
			const failure = await readFailure(response);
			if (!this.#endFrom(failure.code)) this.#problem = `It was not destroyed. ${explain(failure)}`;
		} catch {
			this.#problem = `It was not destroyed. ${NETWORK_FAILURE.message}`;
		} finally {
			this.#destroying = false;
		}
	}

	/** The key the page drew it with, or the key of the passphrase the server drew. */
	async #keyOfDrop(): Promise<string | null> {
		if (this.drop.accessKey) return this.drop.accessKey;
		try {
			return await deriveAccessKey(this.drop.passphrase);
		} catch {
			return null; // no worker here: the card shows what it knew when the drop was sent
		}
	}

	#onVisibility = () => {
		if (!this.#running) return;
		clearTimeout(this.#timer);
		if (document.visibilityState !== 'visible') return;
		// Back after a while: ask at once, unless the last ask was a moment ago.
		if (Date.now() - this.#lastAsk >= this.#delay) void this.#ask();
		else this.#schedule(this.#delay - (Date.now() - this.#lastAsk));
	};

	#schedule(wait = this.#delay): void {
		clearTimeout(this.#timer);
		if (!this.#running || !this.#key || !this.open) return;
		if (document.visibilityState !== 'visible') return; // asked again when it shows
		// At its expiry, ask once more at once (a second late, so the server agrees).
		const untilExpiry = Date.parse(this.drop.expiresAt) + 1000 - Date.now();
		const next = untilExpiry > 0 ? Math.min(wait, untilExpiry) : wait;
		this.#timer = setTimeout(() => void this.#ask(), next);
	}

	async #ask(): Promise<void> {
		const key = this.#key;
		if (!key || !this.open || this.#asking || this.#destroying) return;
		if (Date.now() > Date.parse(this.drop.expiresAt) + ASK_UNTIL_AFTER_EXPIRY_MS) {
			// Asked now, the server might have forgotten it: that would count as a failed lookup.
			return this.#end('expired');
		}
		this.#asking = true;
		this.#lastAsk = Date.now();
		try {
			const response = await post(this.#paths.status, key);
			if (this.#destroying || !this.open) return; // "Destroy now" answers for itself
			if (response.ok) {
				this.#delay = WATCH_INTERVAL_MS;
				this.#apply((await response.json()) as DropStatusBody);
				return;
			}
			const failure = await readFailure(response);
			if (this.#endFrom(failure.code)) return;
			// 429, 503 and the like: wait longer each time, and at least as long as asked.
			this.#backOff(failure.retryAfter);
		} catch {
			this.#backOff();
		} finally {
			this.#asking = false;
			this.#schedule();
		}
	}

	#apply(body: DropStatusBody): void {
		if (body.status === 'active') {
			this.#remaining = body.remaining_uses;
			this.#seenOpenAt = Date.now();
		} else {
			this.#end(body.status === 'burned' ? 'taken' : 'expired');
		}
	}

	/** End the watch on a refusal that says the drop is gone; false for any other refusal. */
	#endFrom(code: string): boolean {
		if (code === 'ALREADY_DOWNLOADED') this.#end('taken');
		else if (code === 'EXPIRED') this.#end('expired');
		else if (code === 'UNKNOWN_PASSPHRASE') this.#end('gone');
		else return false;
		return true;
	}

	#backOff(retryAfterSeconds?: number): void {
		const asked = (retryAfterSeconds ?? 0) * 1000;
		this.#delay = Math.min(MAX_BACKOFF_MS, Math.max(this.#delay * 2, asked));
	}

	#end(fate: Exclude<DropFate, 'open'>): void {
		if (!this.open) return;
		// Taken: every use is spent. Otherwise the uses last seen were what was used.
		if (fate === 'taken') this.#remaining = 0;
		this.#fate = fate;
		this.#endedAt = Date.now();
		this.#problem = null;
		this.#stop();
	}

	#stop(): void {
		this.#running = false;
		clearTimeout(this.#timer);
		document.removeEventListener('visibilitychange', this.#onVisibility);
	}
}

/** A POST naming the drop by its access key only: no body, so no passphrase can be in it. */
function post(path: string, key: string): Promise<Response> {
	return fetch(path, {
		method: 'POST',
		headers: { Accept: 'application/json', 'X-Access-Key': key },
		cache: 'no-store'
	});
}
