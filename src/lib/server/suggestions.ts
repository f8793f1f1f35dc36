/**
 * Word suggestions from an index built once at start, so that a suggestion costs
 * microseconds instead of a comparison with every word of the list on the event loop
 * (7,772 edit distances, about 1-2 ms per unknown word; a client sending ten made-up words a
 * request could keep the event loop busy).
 *
 * The answers are exactly those of `suggestWords` in $lib/passphrase (which the retrieval
 * page still uses, and which tests/unit/suggestions.test.ts compares this with):
 *   - words within edit distance 2 (optimal string alignment, an adjacent swap is one edit),
 *     found through a deletion neighbourhood (symmetric delete, as in SymSpell): if two words
 *     are at most 2 such edits apart, deleting at most 2 letters from each gives the same
 *     string (an insertion is a deletion from the other side, a substitution one deletion on
 *     each side, a swap of `xy` deletes `x` on both sides). Every candidate found this way is
 *     checked with the same `editDistance`, so the index only narrows the search;
 *   - completions (list words that the input begins), from a binary search in the sorted list.
 *
 * Hand-written rather than mnemonist's SymSpell or BK-tree: a BK-tree needs a metric, and
 * optimal string alignment is not one (it breaks the triangle inequality), so it could miss
 * words; mnemonist's SymSpell ranks by its own distance and counts, and would still need the
 * completions and the exact re-check here.
 */
import { editDistance } from '../passphrase';

/** How far a suggestion may be from what was typed, in edits. */
const MAX_DISTANCE = 2;

/**
 * The hashes (FNV-1a, 32 bits) of every string made by deleting at most MAX_DISTANCE (2)
 * letters of `word`, `word` included, computed by skipping letters rather than building each
 * string: the index keeps hashes, not strings, and is built in milliseconds.
 */
function deletionHashes(word: string): Set<number> {
	const hashSkipping = (i: number, j: number) => {
		let hash = 0x811c9dc5;
		for (let k = 0; k < word.length; k++) {
			if (k === i || k === j) continue;
			hash ^= word.charCodeAt(k);
			hash = Math.imul(hash, 0x01000193);
		}
		return hash >>> 0;
	};
	const hashes = new Set([hashSkipping(-1, -1)]);
	for (let i = 0; i < word.length; i++) {
		hashes.add(hashSkipping(i, -1));
		for (let j = i + 1; j < word.length; j++) hashes.add(hashSkipping(i, j));
	}
	return hashes;
}

export class SuggestionIndex {
	readonly #words: readonly string[];
	/** The words in code-unit order, for the completions' binary search. */
	readonly #sorted: readonly string[];
	/**
	 * Each deletion (at most MAX_DISTANCE letters) of each word, as `hash * #slots + word
	 * index`, sorted: about 230,000 numbers (1.8 MB) for the EFF list, where a Map from each
	 * deletion's string to its words took 24 MB and 1.4 s to build. Two deletions with the
	 * same hash only add a candidate, which the exact check then drops.
	 */
	readonly #entries: Float64Array;
	readonly #slots: number;
	readonly #longest: number;

	constructor(words: readonly string[]) {
		this.#words = words;
		this.#sorted = [...words].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
		this.#longest = Math.max(0, ...words.map((word) => word.length));
		// A power of two above the word count; hash * slots + index stays an exact integer.
		this.#slots = 2 ** Math.ceil(Math.log2(words.length + 1));
		const entries: number[] = [];
		words.forEach((word, index) => {
			for (const hash of deletionHashes(word)) entries.push(hash * this.#slots + index);
		});
		this.#entries = Float64Array.from(entries).sort();
	}

	/** The indexes of the words with a deletion of this hash. */
	*#wordsWith(hash: number): Generator<number> {
		const first = hash * this.#slots;
		const end = first + this.#slots;
		const entries = this.#entries;
		for (let i = lowerBound(entries, first); i < entries.length && entries[i]! < end; i++) {
			yield this.#entries[i]! - first;
		}
	}

	/**
	 * Up to `limit` words the user probably meant by `input`, closest first: the same answer,
	 * in the same order, as `suggestWords(words, input, limit)`.
	 */
	suggest(input: string, limit = 5): string[] {
		const word = input.normalize('NFKC').toLowerCase();
		if (word.length === 0) return [];
		const candidates = new Set<number>();
		// Longer than any word by more than MAX_DISTANCE: no word is near, nor completes it.
		if (word.length > this.#longest + MAX_DISTANCE) return [];
		for (const hash of deletionHashes(word)) {
			for (const index of this.#wordsWith(hash)) candidates.add(index);
		}
		const distances = new Map<string, number>();
		for (const index of candidates) {
			const candidate = this.#words[index]!;
			if (candidate === word) continue;
			const distance = editDistance(word, candidate, MAX_DISTANCE);
			if (distance <= MAX_DISTANCE) distances.set(candidate, distance);
		}
		// Typing in progress: a word that `word` begins ranks as one edit away.
		if (word.length >= 2) {
			for (const candidate of this.#completions(word)) {
				if (candidate !== word)
					distances.set(candidate, Math.min(distances.get(candidate) ?? 1, 1));
			}
		}
		return [...distances]
			.sort(([a, x], [b, y]) => x - y || a.localeCompare(b))
			.slice(0, limit)
			.map(([candidate]) => candidate);
	}

	/** The words that begin with `prefix`. */
	*#completions(prefix: string): Generator<string> {
		const sorted = this.#sorted;
		for (
			let i = lowerBound(sorted, prefix);
			i < sorted.length && sorted[i]!.startsWith(prefix);
			i++
		) {
			yield this.#sorted[i]!;
		}
	}
}

/** The first index of `sorted` (ascending) whose value is not below `value`: a binary search. */
function lowerBound<T extends number | string>(sorted: ArrayLike<T>, value: T): number {
	let low = 0;
	let high = sorted.length;
	while (low < high) {
		const middle = (low + high) >>> 1;
		if (sorted[middle]! < value) low = middle + 1;
		else high = middle;
	}
	return low;
}
