/**
 * Chooses the store from the configuration: Redis/Valkey when REDIS_URL is set, otherwise
 * the in-process store (with a warning, since it cannot be shared between instances).
 */
import { getConfig } from '../config';
import { log } from '../log';
import { MemoryStore } from './memory';
import { RedisStore } from './redis';
import type { MetadataStore } from './types';

export type { GoneState, MetadataStore, StoreState } from './types';
export { StoreUnavailableError } from './types';

let current: MetadataStore | undefined;

/** Create the process's store once; later calls return the same one. */
export function openStore(): MetadataStore {
	if (current) return current;
	const { redisUrl } = getConfig();
	if (redisUrl) {
		current = new RedisStore(redisUrl, {
			onConnectionChange: (state, error) => {
				if (state === 'connected') log().info({ event: 'store_connected', store: 'redis' });
				else log().error({ event: 'store_disconnected', store: 'redis', error: error?.message });
			}
		});
	} else {
		log().warn({
			event: 'store_in_process',
			message:
				'REDIS_URL is not set: using the in-process store. Drops live in this process only; ' +
				'run a single instance, or set REDIS_URL to share Redis/Valkey between instances.'
		});
		current = new MemoryStore();
	}
	return current;
}

/** The store opened at start-up. */
export function store(): MetadataStore {
	if (!current) throw new Error('The store is used before init() opened it');
	return current;
}

/** Close the store (shutdown). */
export async function closeStore(): Promise<void> {
	const closing = current;
	current = undefined;
	await closing?.close();
}
