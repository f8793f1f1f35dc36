/**
 * Transfers in flight: what a shutdown must let finish, and the store entries a long transfer
 * keeps alive.
 *
 * Store work that a shutdown must let finish: uploads being received (their failure path
 * releases the reservation and removes the part) and downloads from taking a use until their
 * reader is released (the last reader of a burned drop shreds its file). shutdown.ts waits for
 * them (`settle`) before it closes the store. Without this, a transfer cut off by
 * SHUTDOWN_TIMEOUT met a closed store: a 500 in the log, and a burned drop's file kept until
 * its reader mark expired (an hour) instead of being shredded.
 *
 * An upload's reservation of its lookup id (RESERVATION_TTL_SECONDS, 10 min by default) and a
 * download's reader mark on its file (READER_TTL_SECONDS, 1 h) are store entries with a TTL, so
 * that they lapse when their process dies. A live transfer refreshes its entry every third of
 * the TTL (`keepAlive`): a big file on a slow link may take longer than one TTL, and without
 * the refresh its temp part could be removed as a crash's leftover (reservation) or its file
 * shredded by the expiry sweep while it is still being read (reader).
 */
import type { Logger } from 'pino';

export const REFRESHES_PER_TTL = 3;

export class Transfers {
	readonly #inFlight = new Set<Promise<unknown>>();
	readonly #log: Logger;

	constructor(log: Logger) {
		this.#log = log;
	}

	/** How many transfers are in flight now. */
	get size(): number {
		return this.#inFlight.size;
	}

	/** Hold up a shutdown until `work` settles; resolves as `work` does. */
	track<T>(work: Promise<T>): Promise<T> {
		this.#inFlight.add(work);
		const forget = () => this.#inFlight.delete(work);
		void work.then(forget, forget);
		return work;
	}

	/** Resolve when the work in flight has finished, or after `timeoutMs`, whichever is first. */
	async settle(timeoutMs: number): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (this.#inFlight.size > 0 && Date.now() < deadline) {
			let timer: NodeJS.Timeout | undefined;
			const timeout = new Promise<void>((resolve) => {
				timer = setTimeout(resolve, deadline - Date.now());
			});
			await Promise.race([Promise.allSettled([...this.#inFlight]), timeout]);
			clearTimeout(timer);
		}
	}

	/**
	 * Call `refresh` every third of `ttlMs` until the returned stop function is called
	 * (idempotent). A refresh that fails (the store is down) is logged and tried again at the
	 * next tick, since the entry outlives two missed refreshes; one that resolves false (the
	 * entry is gone: it lapsed, or was taken over or released) is logged once and ends the
	 * refreshing, as nothing is left to keep. Never throws and never leaves a rejection
	 * unhandled; the timer is unref()ed so it cannot keep the process alive, and a result that
	 * arrives after stop() is ignored (a reservation that createDrop has just taken over is not
	 * "lost").
	 */
	keepAlive(
		what: 'reservation' | 'reader',
		refresh: () => Promise<boolean>,
		ttlMs: number
	): () => void {
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
			// Through a promise, so that even a synchronous throw (a store closed at shutdown) is
			// caught below rather than thrown out of the timer.
			Promise.resolve()
				.then(refresh)
				.then((held) => {
					if (held || stopped) return;
					this.#log.warn({ event: `${what}_refresh_lost` });
					stop();
				})
				.catch((error: unknown) => {
					if (stopped) return;
					this.#log.warn({ event: `${what}_refresh_failed`, error: messageOf(error) });
				})
				.finally(() => {
					pending = false;
				});
		};
		const timer = setInterval(tick, ttlMs / REFRESHES_PER_TTL);
		timer.unref();
		return stop;
	}
}

export function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
