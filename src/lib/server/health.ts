/**
 * The /health/ report, in the seed's shape (`HealthReport` in $lib/schemas). `healthy` only
 * when every service is usable; `embedded` (the in-process store) counts as usable.
 */
import { version } from '../../../package.json';
import type { HealthReport, ServiceState } from '../schemas';
import { wordlist } from './diceware';
import { HEARTBEAT_STALE_MS, jobsRunning, lastHeartbeat } from './jobs';
import { services } from './services';
import { store } from './store';

/** When this process started (not when this module was first loaded: the first health check). */
const startedAt = new Date(Date.now() - process.uptime() * 1000);

async function storageState(): Promise<ServiceState> {
	return (await services().files.isAvailable()) ? 'online' : 'offline';
}

async function schedulerState(): Promise<ServiceState> {
	if (!jobsRunning()) return 'offline';
	const beatAt = await lastHeartbeat();
	return beatAt !== undefined && Date.now() - beatAt < HEARTBEAT_STALE_MS ? 'online' : 'offline';
}

/** Check every service now. Never throws; each check is bounded by the store's timeouts. */
export async function checkHealth(): Promise<HealthReport> {
	const [redis, storage, scheduler] = await Promise.all([
		store().ping(),
		storageState(),
		schedulerState()
	]);
	const diceware: ServiceState = wordlist() ? 'online' : 'offline';
	const healthy =
		redis !== 'offline' && storage === 'online' && scheduler === 'online' && diceware === 'online';
	const now = new Date();
	return {
		status: healthy ? 'healthy' : 'degraded',
		version,
		timestamp: now.toISOString(),
		services: { redis, storage, scheduler, diceware },
		uptime_seconds: Math.floor((now.getTime() - startedAt.getTime()) / 1000),
		started_at: startedAt.toISOString()
	};
}
