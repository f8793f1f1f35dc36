/**
 * The word list for checking a passphrase as it is typed, fetched once per page load from
 * the app itself (`/words.json`). Nothing typed is sent anywhere by this check.
 */
import type { UnknownWord } from './errors';
import {
	MAX_PASSPHRASE_LENGTH,
	MAX_WORDS,
	MIN_WORDS,
	splitPassphrase,
	suggestWords,
	type MalformedPassphrase
} from './passphrase';

let loading: Promise<WordIndex> | undefined;

export class WordIndex {
	readonly words: readonly string[];
	readonly #known: ReadonlySet<string>;

	constructor(words: readonly string[]) {
		this.words = words;
		this.#known = new Set(words);
	}

	has(word: string): boolean {
		return this.#known.has(word);
	}

	/** Whether some list word begins with `prefix` (a word still being typed). */
	isPrefix(prefix: string): boolean {
		return this.words.some((word) => word.startsWith(prefix));
	}

	suggest(word: string, limit = 4): string[] {
		return suggestWords(this.words, word, limit);
	}
}

/** Fetch the list once; a failure is retried on the next call. */
export function loadWords(fetcher: typeof fetch = fetch): Promise<WordIndex> {
	loading ??= fetcher('/words.json')
		.then(async (response) => {
			if (!response.ok) throw new Error(`words.json answered ${response.status}`);
			return new WordIndex((await response.json()) as string[]);
		})
		.catch((error: unknown) => {
			loading = undefined;
			throw error;
		});
	return loading;
}

export type CheckedWord = {
	word: string;
	position: number;
	/** known: in the list; typing: the last word, a prefix of list words; unknown: neither. */
	state: 'known' | 'typing' | 'unknown';
	suggestions: string[];
};

/**
 * Each word of `input` against the list, as the server will check it. The last word counts
 * as still being typed (and is offered completions) unless a separator follows it.
 */
export function checkWords(index: WordIndex, input: string): CheckedWord[] {
	const words = splitPassphrase(input);
	const endsWithSeparator = /\P{L}$/u.test(input);
	return words.map((word, position) => {
		const isLast = position === words.length - 1 && !endsWithSeparator;
		if (index.has(word)) return { word, position, state: 'known', suggestions: [] };
		if (isLast && index.isPrefix(word)) {
			return { word, position, state: 'typing', suggestions: index.suggest(word) };
		}
		return { word, position, state: 'unknown', suggestions: index.suggest(word) };
	});
}

/** `input` with the word at `position` replaced, written the canonical way (a-b-c). */
export function replaceWord(input: string, position: number, replacement: string): string {
	const words = splitPassphrase(input);
	words[position] = replacement;
	return words.join('-');
}

export type PassphraseReading =
	| { ok: true; normalised: string }
	| { ok: false; malformed: MalformedPassphrase; unknownWords: UnknownWord[] };

/**
 * `input` read as the server reads a passphrase (Wordlist.check), so the retrieval page can
 * refuse a malformed one itself, before deriving a key from it: an access key says nothing
 * about its words, so the server could only answer "unknown" and count it as a failed lookup.
 * Without the list (`index` null: it failed to load) only the shape is checked.
 */
export function checkPassphrase(index: WordIndex | null, input: string): PassphraseReading {
	const refuse = (malformed: MalformedPassphrase, unknownWords: UnknownWord[] = []) =>
		({ ok: false, malformed, unknownWords }) as const;
	if (input.length > MAX_PASSPHRASE_LENGTH * 4) return refuse({ reason: 'too_long' });
	const words = splitPassphrase(input);
	if (words.length === 0) return refuse({ reason: 'empty' });
	const normalised = words.join('-');
	if (normalised.length > MAX_PASSPHRASE_LENGTH) return refuse({ reason: 'too_long' });
	if (words.length < MIN_WORDS || words.length > MAX_WORDS) return refuse({ reason: 'word_count' });
	const unknown = index
		? words
				.map((word, position) => ({ word, position }))
				.filter(({ word }) => !index.has(word))
				.map(({ word, position }) => ({ word, position, suggestions: index.suggest(word, 5) }))
		: [];
	// Five suggestions, as the server gives (Wordlist.suggest).
	if (unknown.length > 0) return refuse({ reason: 'unknown_words', unknown }, unknown);
	return { ok: true, normalised };
}
