/**
 * The diceware word list: loading and validating it, generating passphrases, normalising
 * what people paste, and suggesting the word they probably meant.
 *
 * The EFF large list has 7,776 words, four of which contain a hyphen (`drop-down`, `felt-tip`,
 * `t-shirt`, `yo-yo`). Since any run of non-letters separates words when a passphrase is
 * normalised, those four could never be typed back as one word, so they are never drawn.
 * That costs 0.0007 bits per word (log2 7776 - log2 7772).
 */
import type { UnknownWord } from '../errors';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
	editDistance,
	MAX_PASSPHRASE_LENGTH,
	MAX_WORDS,
	MIN_WORDS,
	splitPassphrase
} from '../passphrase';
import { StartupError } from './config';
import { SuggestionIndex } from './suggestions';

// The pure normalisation and suggestion code lives in $lib/passphrase, shared with the
// retrieval page so that the browser checks words exactly as the server will.
export { editDistance, MAX_PASSPHRASE_LENGTH, MAX_WORDS, MIN_WORDS, splitPassphrase };

export const WORDLIST_SIZE = 7776;

/**
 * How many unknown words of one passphrase get suggestions: someone mistyping a word or two
 * is helped, and a request of ten made-up words costs no more than three lookups.
 */
export const SUGGESTED_WORDS = 3;

export type { UnknownWord };

export type PassphraseCheck =
	| { ok: true; passphrase: string; words: string[] }
	| { ok: false; reason: 'empty' | 'too_long' | 'word_count'; words: string[] }
	| { ok: false; reason: 'unknown_words'; words: string[]; unknown: UnknownPlace[] };

/** A word of a passphrase that is not in the list, and where it stands (from 0). */
export type UnknownPlace = { word: string; position: number };

export class Wordlist {
	readonly words: readonly string[];
	/** The words a passphrase may be drawn from: those that survive normalisation whole. */
	readonly drawable: readonly string[];
	readonly #known: ReadonlySet<string>;
	readonly #suggestions: SuggestionIndex;

	constructor(words: readonly string[]) {
		this.words = Object.freeze([...words]);
		this.drawable = Object.freeze(words.filter((word) => /^\p{Ll}+$/u.test(word)));
		this.#known = new Set(this.drawable);
		// Built once at start (0.3-0.5 s on the 2-core machine under load, 1.7 MB), so that a suggestion costs microseconds.
		this.#suggestions = new SuggestionIndex(this.drawable);
	}

	/** Whether `word` (already normalised) can appear in a passphrase. */
	has(word: string): boolean {
		return this.#known.has(word);
	}

	/** A new passphrase of `count` words drawn uniformly with crypto.randomInt, joined by `-`. */
	generate(count: number): string {
		const words: string[] = [];
		for (let i = 0; i < count; i++) words.push(this.drawable[randomInt(this.drawable.length)]!);
		return words.join('-');
	}

	/**
	 * Up to `limit` list words the user probably meant by `input`, closest first: edit
	 * distance at most 2 (an adjacent swap counts as one edit), with words that `input` begins
	 * (typing in progress) ranked as one edit away.
	 */
	suggest(input: string, limit = 5): string[] {
		return this.#suggestions.suggest(input, limit);
	}

	/**
	 * The unknown words of a passphrase with suggestions for the first `count` of them (the
	 * rest get none): what an INVALID_PASSPHRASE answer names. Call it only once the client's
	 * malformed-input limit has let the request through.
	 */
	explain(unknown: readonly UnknownPlace[], count = SUGGESTED_WORDS): UnknownWord[] {
		return unknown.map(({ word, position }, index) => ({
			position,
			word,
			suggestions: index < count ? this.suggest(word) : []
		}));
	}

	/**
	 * Normalise `input` and check every word against the list. Cheap and constant-bounded
	 * (a split and set lookups; no suggestions, see `explain`), so it runs before any limit
	 * is counted or any scrypt work.
	 */
	check(input: string): PassphraseCheck {
		if (input.length > MAX_PASSPHRASE_LENGTH * 4)
			return { ok: false, reason: 'too_long', words: [] };
		const words = splitPassphrase(input);
		if (words.length === 0) return { ok: false, reason: 'empty', words };
		if (words.join('-').length > MAX_PASSPHRASE_LENGTH)
			return { ok: false, reason: 'too_long', words: [] };
		if (words.length < MIN_WORDS || words.length > MAX_WORDS) {
			return { ok: false, reason: 'word_count', words };
		}
		const unknown = words
			.map((word, position) => ({ word, position }))
			.filter(({ word }) => !this.has(word));
		if (unknown.length > 0) return { ok: false, reason: 'unknown_words', words, unknown };
		return { ok: true, passphrase: words.join('-'), words };
	}
}

/**
 * Parse a list in the EFF form (`11111<TAB>abacus`, one per line): exactly 7,776 lines, each
 * dice code 11111-66666 once, each word unique and lower-case.
 * @throws StartupError naming the file and the first problem found.
 */
export function parseWordlist(text: string, source: string): Wordlist {
	const fail = (problem: string): never => {
		throw new StartupError(`Invalid diceware word list ${source}: ${problem}`);
	};
	const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
	const codes = new Set<string>();
	const words = new Set<string>();
	lines.forEach((line, index) => {
		const match = /^([1-6]{5})\t([a-z][a-z-]*[a-z])$/.exec(line.trim());
		if (!match) fail(`line ${index + 1} is not "<5 dice digits><TAB><lower-case word>"`);
		const [, code, word] = match as RegExpExecArray & [string, string, string];
		if (codes.has(code)) fail(`dice code ${code} appears twice`);
		if (words.has(word)) fail(`the word "${word}" appears twice`);
		codes.add(code);
		words.add(word);
	});
	if (words.size !== WORDLIST_SIZE) {
		fail(`it has ${words.size} words (should be ${WORDLIST_SIZE})`);
	}
	return new Wordlist([...words]);
}

/** Read and validate the list at `path`. @throws StartupError when missing or malformed. */
export function loadWordlist(path: string): Wordlist {
	let text: string;
	try {
		text = readFileSync(path, 'utf8');
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
		throw new StartupError(`Cannot read the diceware word list ${path} (${code})`);
	}
	return parseWordlist(text, path);
}

let loaded: Wordlist | undefined;

/** Load the process's word list once (at start-up). */
export function initWordlist(path: string): Wordlist {
	loaded = loadWordlist(path);
	return loaded;
}

/** The word list loaded at start-up, or undefined before that. */
export function wordlist(): Wordlist | undefined {
	return loaded;
}
