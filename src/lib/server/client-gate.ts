/**
 * Lookups from one client address run at most KDF_CONCURRENCY at a time; the rest of that
 * client's lookups wait their turn. Two reasons:
 *   - fairness: one client firing a hundred lookups holds at most KDF_CONCURRENCY places in
 *     the scrypt queue, so everyone else waits for a few derivations, not for all of its;
 *   - brute force: a failed lookup is counted only after its scrypt and its store read, so
 *     lookups started together used to pass the block check together (N parallel guesses).
 *     With the block re-checked inside the gate, a client gets at most DOWNLOAD_FAIL_LIMIT
 *     + KDF_CONCURRENCY - 1 guesses per window.
 * One address may be a whole office behind NAT: it still gets every core, only not more.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { KDF_CONCURRENCY } from './crypto/keys';

const gates = new Map<string, LimitFunction>();

/** Run `work` once this client has fewer than KDF_CONCURRENCY lookups in progress. */
export async function throughClientGate<T>(address: string, work: () => Promise<T>): Promise<T> {
	let gate = gates.get(address);
	if (!gate) {
		gate = pLimit(KDF_CONCURRENCY);
		gates.set(address, gate);
	}
	try {
		return await gate(work);
	} finally {
		// Forget idle clients, so the map holds only those with lookups in progress.
		if (gate.activeCount === 0 && gate.pendingCount === 0) gates.delete(address);
	}
}
