/**
 * Lookups from one client address run at most KDF_CONCURRENCY at a time; the rest of that
 * client's lookups wait their turn. Fairness: one client firing a hundred lookups holds at
 * most KDF_CONCURRENCY places in the scrypt queue, so everyone else waits for a few
 * derivations, not for all of its. (The brute-force block no longer depends on it: each
 * lookup takes its guess in one store step before any work, Limits.takeGuess.)
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
