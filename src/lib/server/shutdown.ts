/**
 * The one place that tears the service down, after the HTTP server has stopped accepting and
 * in-flight requests have finished (or SHUTDOWN_TIMEOUT cut them off): stop the jobs, close
 * the file storage's connections and the store, flush the log, exit. Runs once, on
 * adapter-node's `sveltekit:shutdown` event, which server/index.js emits just as
 * adapter-node's own entry point does.
 */
import { stopJobs } from './jobs';
import { flushLog, log } from './log';
import { services } from './services';
import { closeStore } from './store';

let registered = false;

export function registerShutdown(): void {
	if (registered) return;
	registered = true;
	process.once('sveltekit:shutdown', (reason: string) => {
		void shutDown(reason).finally(() => process.exit(0));
	});
}

/**
 * How long transfers that were just cut off get to finish their store work (release a
 * reservation, shred a burned drop's file) before the store closes: normally milliseconds.
 */
const SETTLE_TIMEOUT_MS = 5_000;

/** Let cut-off transfers tidy up, stop jobs, close the store, flush the log. Never throws. */
export async function shutDown(reason: string): Promise<void> {
	log().info({ event: 'shutdown', reason });
	await services().transfers.settle(SETTLE_TIMEOUT_MS);
	stopJobs();
	await services()
		.files.close()
		.catch((error: unknown) =>
			log().error({ event: 'shutdown_storage_error', error: (error as Error).message })
		);
	try {
		await closeStore();
	} catch (error) {
		log().error({ event: 'shutdown_store_error', error: (error as Error).message });
	}
	await flushLog();
}
