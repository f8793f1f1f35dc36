/**
 * The retrieval page keeps one passphrase in this tab's sessionStorage, so that a reload does
 * not lose it: a share link's fragment is removed from the address bar once read (so that it
 * stays out of the history and of copied links), and a reload would otherwise open an empty
 * field. sessionStorage is per tab and per site: other sites never see it, other tabs only
 * if they were duplicated from this one (they start with a copy), and it ends with the tab
 * (unless the browser restores the closed tab).
 *
 * What the page (src/routes/r/+page.svelte) does with it: it stores a share link's passphrase
 * when it checks that link by itself (not one left unchecked by ./auto-check-budget.ts), and
 * any passphrase a check finds waiting. It removes what it stored when a check answers that no
 * drop has the passphrase checked, when the page sees the drop it shows taken or expired (a
 * check's answer, or the answer to one of its own downloads), and when the field is emptied.
 * Nothing else removes it: other refusals (a malformed passphrase, a block, a rate limit, a
 * network failure) and words edited but not yet checked leave the stored one in place, and a
 * reload brings that one back and checks it.
 *
 * Browser code; where storage is unavailable (blocked or full) nothing is kept and nothing
 * fails.
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
