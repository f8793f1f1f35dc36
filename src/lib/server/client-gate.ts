/**
 * Lookups and uploads from one client address run at most KDF_CONCURRENCY at a time; the rest
 * of that client's requests wait their turn (an upload waits before it reads a byte of its
 * body, and holds its place until it is stored or refused). Three reasons:
 *   - fairness: one client firing a hundred lookups holds at most KDF_CONCURRENCY places in
 *     the scrypt queue, so everyone else waits for a few derivations, not for all of its;
 *   - brute force: a failed lookup is counted only after its scrypt and its store read, so
 *     lookups started together used to pass the block check together (N parallel guesses).
 *     With the block re-checked inside the gate, a client gets at most DOWNLOAD_FAIL_LIMIT
 *     + KDF_CONCURRENCY - 1 guesses per window (per instance).
 *   - uploads: each draws a passphrase (one scrypt), encrypts and writes; 62 uploads at once
 *     from two addresses used to stream 600 MiB in 5 s. Now one address streams at most
 *     KDF_CONCURRENCY at a time, and its uploads and lookups share those places.
 * One address may be a whole office behind NAT: it still gets every core, only not more.
 * Per instance: with several instances a client gets this many places on each.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { KDF_CONCURRENCY } from './crypto/keys';

const gates = new Map<string, LimitFunction>();

/** Run `work` once this client has fewer than KDF_CONCURRENCY lookups and uploads in progress. */
export async function throughClientGate<T>(address: string, work: () => Promise<T>): Promise<T> {
	let gate = gates.get(address);
	if (!gate) {
		gate = pLimit(KDF_CONCURRENCY);
		gates.set(address, gate);
	}
	try {
		return await gate(work);
	} finally {
		// Forget idle clients, so the map holds only those with requests in progress.
		if (gate.activeCount === 0 && gate.pendingCount === 0) gates.delete(address);
	}
}
