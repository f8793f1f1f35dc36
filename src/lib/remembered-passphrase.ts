/**
 * The retrieval page keeps the passphrase it is working with in this tab's sessionStorage, so
 * that a reload does not lose it: a share link's fragment is removed from the address bar
 * once read (so that it stays out of the history and of copied links), and a reload would
 * otherwise open an empty field. sessionStorage is this tab's alone and goes with it; the
 * page forgets the passphrase as soon as the drop is gone (taken, expired, unknown) or the
 * field is cleared. Browser code; where storage is unavailable (a blocked or full store)
 * nothing is kept and nothing fails.
 */

const KEY = 'raven-zero:retrieve:passphrase';

/** The passphrase kept for this tab, or '' if none. */
export function recallPassphrase(): string {
	try {
		return sessionStorage.getItem(KEY) ?? '';
	} catch {
		return '';
	}
}

export function rememberPassphrase(passphrase: string): void {
	try {
		if (passphrase) sessionStorage.setItem(KEY, passphrase);
		else sessionStorage.removeItem(KEY);
	} catch {
		// Storage is off or full: a reload will ask again.
	}
}

export function forgetPassphrase(): void {
	rememberPassphrase('');
}
