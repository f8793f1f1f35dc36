/**
 * The speed of a running transfer and the time it has left, from the bytes counted so far.
 * Universal (the pages' progress bars use it); pure, so it is tested without a browser.
 */

/** The speed is taken over the last few seconds, so it follows a connection that changes. */
const WINDOW_MS = 5000;
/** Below this much history a speed would be a guess: none is given. */
const MIN_SPAN_MS = 1000;

export class TransferRate {
	readonly #samples: { at: number; bytes: number }[] = [];

	/** Record that `bytes` have been transferred in all, at `at` (ms, performance.now()). */
	add(bytes: number, at: number = performance.now()): void {
		this.#samples.push({ at, bytes });
		// Keep one sample older than the window, so the window is always fully covered.
		while (this.#samples.length > 2 && this.#samples[1]!.at <= at - WINDOW_MS) {
			this.#samples.shift();
		}
	}

	/** Bytes per second over the last few seconds; 0 until there is a second of history. */
	get bytesPerSecond(): number {
		const first = this.#samples[0];
		const last = this.#samples.at(-1);
		if (!first || !last || last.at - first.at < MIN_SPAN_MS) return 0;
		return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
	}
}

/**
 * Whole seconds until `total` bytes at `bytesPerSecond`, at least 1 while bytes remain;
 * undefined while the speed or the size is unknown, or once every byte is done.
 */
export function secondsLeft(
	done: number,
	total: number,
	bytesPerSecond: number
): number | undefined {
	if (bytesPerSecond <= 0 || total <= 0 || done >= total) return undefined;
	return Math.max(1, Math.ceil((total - done) / bytesPerSecond));
}
