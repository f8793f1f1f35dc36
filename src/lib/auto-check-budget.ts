/**
 * How often the retrieval page may check a share link's passphrase by itself. A link
 * `/r#<passphrase>` fills the field and checks it at once, and a check of an unknown
 * passphrase counts one failed lookup against this browser's network address (blocked for
 * DOWNLOAD_BLOCK_WINDOW after DOWNLOAD_FAIL_LIMIT of them: 30 minutes after 10 by default).
 * So any web page could spend its visitor's guesses by opening `/r#<made-up words>`, once per
 * click or once per visit by navigating itself there, and get the visitor (or everyone behind
 * the same office NAT) blocked. At most AUTO_CHECK_LIMIT automatic checks per
 * AUTO_CHECK_WINDOW_MS run, per browser (timestamps in localStorage, pruned as they age); past
 * that the page fills the field and asks the person to press Check.
 *
 * Why 3: well under the default limit of 10, even if a hostile page also gets one failure for
 * each click it tricks the visitor into; and more share links than a person usually opens in
 * half an hour (one more costs them a press of Check, nothing else).
 * Where storage is unavailable (blocked, full) nothing can be counted, so nothing is checked
 * by itself. Checks the person asks for, and the re-check of a passphrase recalled from this
 * tab after a reload (./remembered-passphrase.ts), do not come out of this budget.
 */

const KEY = 'raven-zero:retrieve:auto-checks';

/** Automatic checks allowed per window. */
export const AUTO_CHECK_LIMIT = 3;

/** The window: DOWNLOAD_BLOCK_WINDOW's default, 30 minutes. */
export const AUTO_CHECK_WINDOW_MS = 30 * 60 * 1000;

/** Whether the page may check by itself: `check`, or why not. */
export type AutoCheck = 'check' | 'spent' | 'no-storage';

/** Take one automatic check from the budget (counted only when the answer is `check`). */
export function takeAutoCheck(now: number = Date.now()): AutoCheck {
	try {
		const recent = readTimes().filter((time) => now - time < AUTO_CHECK_WINDOW_MS);
		const allowed = recent.length < AUTO_CHECK_LIMIT;
		if (allowed) recent.push(now);
		localStorage.setItem(KEY, JSON.stringify(recent));
		return allowed ? 'check' : 'spent';
	} catch {
		return 'no-storage';
	}
}

/** The stored timestamps; anything unreadable counts as none. Throws if storage is off. */
function readTimes(): number[] {
	const stored = localStorage.getItem(KEY);
	let parsed: unknown;
	try {
		parsed = stored ? JSON.parse(stored) : [];
	} catch {
		return [];
	}
	return Array.isArray(parsed)
		? parsed.filter((time): time is number => typeof time === 'number' && Number.isFinite(time))
		: [];
}
