/**
 * Chooses the store from the configuration: Redis/Valkey when REDIS_URL, REDIS_SENTINELS or
 * REDIS_CLUSTER_NODES is set (the configuration allows only one), otherwise the in-process
 * store (with a warning, since it cannot be shared between instances).
 */
import { getConfig, type Config } from '../config';
import { log } from '../log';
import { MemoryStore } from './memory';
import { RedisStore, type RedisConnection } from './redis';
import type { MetadataStore } from './types';

export type { GoneState, MetadataStore, StoreState } from './types';
export { StoreUnavailableError } from './types';

let current: MetadataStore | undefined;

/** Create the process's store once; later calls return the same one. */
export function openStore(): MetadataStore {
	if (current) return current;
	const connection = redisConnection(getConfig());
	if (connection) {
		const topology = connection.kind === 'url' ? 'single' : connection.kind;
		current = new RedisStore(connection, {
			onConnectionChange: (state, error) => {
				if (state === 'connected') {
					log().info({ event: 'store_connected', store: 'redis', topology });
				} else {
					log().error({
						event: 'store_disconnected',
						store: 'redis',
						topology,
						error: error?.message
					});
				}
			},
			onUnacknowledged: (detail) =>
				log().warn({ event: 'store_write_unacknowledged', store: 'redis', topology, ...detail }),
			onRestart: () => log().warn({ event: 'store_client_restarted', store: 'redis', topology })
		});
	} else {
		log().warn({
			event: 'store_in_process',
			message:
				'REDIS_URL is not set (nor REDIS_SENTINELS or REDIS_CLUSTER_NODES): using the in-process ' +
				'store. Drops live in this process only; run a single instance, or set REDIS_URL to ' +
				'share Redis/Valkey between instances.'
		});
		current = new MemoryStore();
	}
	return current;
}

/** How the configuration says to reach Redis, if it does. */
export function redisConnection(config: Config): RedisConnection | undefined {
	const password = config.redisPassword;
	if (config.redisUrl) return { kind: 'url', url: config.redisUrl };
	if (config.redisSentinels.length > 0 && config.redisSentinelName) {
		return {
			kind: 'sentinel',
			sentinels: config.redisSentinels,
			name: config.redisSentinelName,
			password
		};
	}
	if (config.redisClusterNodes.length > 0) {
		return { kind: 'cluster', nodes: config.redisClusterNodes, password };
	}
	return undefined;
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
