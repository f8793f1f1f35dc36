/**
 * The diceware word list: loading and validating it, generating passphrases, normalising
 * what people paste, and suggesting the word they probably meant.
 *
 * The EFF large list has 7,776 words, four of which contain a hyphen (`drop-down`, `felt-tip`,
 * `t-shirt`, `yo-yo`). Since any run of non-letters separates words when a passphrase is
 * normalised, those four could never be typed back as one word, so they are never drawn.
 * That costs 0.0007 bits per word (log2 7776 - log2 7772).
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { StartupError } from './config';

export const WORDLIST_SIZE = 7776;
export const MIN_WORDS = 3;
export const MAX_WORDS = 10;
/** Longer input is refused before any work: 10 words of the list fit well within it. */
export const MAX_PASSPHRASE_LENGTH = 200;

export type UnknownWord = { position: number; word: string; suggestions: string[] };

export type PassphraseCheck =
	| { ok: true; passphrase: string; words: string[] }
	| { ok: false; reason: 'empty' | 'too_long' | 'word_count'; words: string[] }
	| { ok: false; reason: 'unknown_words'; words: string[]; unknown: UnknownWord[] };

export class Wordlist {
	readonly words: readonly string[];
	/** The words a passphrase may be drawn from: those that survive normalisation whole. */
	readonly drawable: readonly string[];
	readonly #known: ReadonlySet<string>;

	constructor(words: readonly string[]) {
		this.words = Object.freeze([...words]);
		this.drawable = Object.freeze(words.filter((word) => /^\p{Ll}+$/u.test(word)));
		this.#known = new Set(this.drawable);
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
		const word = input.normalize('NFKC').toLowerCase();
		if (word.length === 0) return [];
		const scored: { candidate: string; distance: number }[] = [];
		for (const candidate of this.drawable) {
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

	/**
	 * Normalise `input` and check every word against the list. Cheap and constant-bounded,
	 * so it runs before any scrypt work.
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
			.filter(({ word }) => !this.has(word))
			.map(({ word, position }) => ({ word, position, suggestions: this.suggest(word) }));
		if (unknown.length > 0) return { ok: false, reason: 'unknown_words', words, unknown };
		return { ok: true, passphrase: words.join('-'), words };
	}
}

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
