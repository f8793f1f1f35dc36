/**
 * How a passphrase is read, shared by the server (src/lib/server/diceware.ts, which owns the
 * word list) and the retrieval page, which checks each word as it is typed. Pure functions
 * only: no word list, no Node APIs, so the browser can import it.
 */

export const MIN_WORDS = 3;
export const MAX_WORDS = 10;
/** Longer input is refused before any work: 10 words of the list fit well within it. */
export const MAX_PASSPHRASE_LENGTH = 200;

/**
 * The words of a passphrase however it was pasted: Unicode NFKC, lower case, and any run of
 * non-letters (spaces, hyphens, dots, line breaks, digits) is one separator.
 */
export function splitPassphrase(input: string): string[] {
	return input
		.normalize('NFKC')
		.toLowerCase()
		.split(/\P{L}+/u)
		.filter((word) => word.length > 0);
}

/** Why a passphrase cannot be looked up, before any key is derived from it. */
export type MalformedPassphrase =
	| { reason: 'empty' | 'too_long' | 'word_count' }
	| { reason: 'unknown_words'; unknown: readonly { word: string; suggestions: string[] }[] };

/**
 * Explain a malformed passphrase in one sentence, naming the words and what they may be: the
 * server's answer to curl and the no-JavaScript form, and the retrieval page's own when it
 * checks the words before deriving a key.
 */
export function describeMalformed(check: MalformedPassphrase): string {
	if (check.reason !== 'unknown_words') {
		return {
			empty: 'Enter the passphrase you were given.',
			too_long: 'That is far longer than any passphrase.',
			word_count: `A passphrase has ${MIN_WORDS} to ${MAX_WORDS} words, separated by hyphens or spaces.`
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

/** Damerau-Levenshtein (optimal string alignment) distance, giving up past `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
	if (Math.abs(a.length - b.length) > max) return max + 1;
	const rows: number[][] = [];
	for (let i = 0; i <= a.length; i++) rows.push([i]);
	for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
	for (let i = 1; i <= a.length; i++) {
		let rowMin = Infinity;
		for (let j = 1; j <= b.length; j++) {
			const cost = a[i - 1] === b[j - 1] ? 0 : 1;
			let value = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
			if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
				value = Math.min(value, rows[i - 2]![j - 2]! + 1);
			}
			rows[i]![j] = value;
			rowMin = Math.min(rowMin, value);
		}
		if (rowMin > max) return max + 1;
	}
	return rows[a.length]![b.length]!;
}

/**
 * Up to `limit` words of `words` the user probably meant by `input`, closest first: edit
 * distance at most 2 (an adjacent swap counts as one edit), with words that `input` begins
 * (typing in progress) ranked as one edit away.
 */
export function suggestWords(words: readonly string[], input: string, limit = 5): string[] {
	const word = input.normalize('NFKC').toLowerCase();
	if (word.length === 0) return [];
	const scored: { candidate: string; distance: number }[] = [];
	for (const candidate of words) {
		if (candidate === word) continue;
		const isCompletion = word.length >= 2 && candidate.startsWith(word);
		const distance = Math.min(editDistance(word, candidate, 2), isCompletion ? 1 : Infinity);
		if (distance <= 2) scored.push({ candidate, distance });
	}
	return scored
		.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
		.slice(0, limit)
		.map(({ candidate }) => candidate);
}
