/**
 * Self-destruction on disk: files whose drop is gone are shredded, and leftovers of crashed
 * uploads are removed. The store decides what is still needed (a record, an upload in
 * progress, or a download still reading), so several instances sharing one storage folder
 * never shred each other's live files.
 */
import type { FileEntry } from './files';
import { isDeadOwner } from './process-owner';
import type { Services } from './services';

export type SweepReport = { checked: number; shredded: number; kept: number };

/** What the sweeps work on. */
export type SweepDeps = Pick<Services, 'config' | 'store' | 'files' | 'log'>;

async function shredUnneeded(
	{ config, store, files }: SweepDeps,
	entries: FileEntry[],
	minimumAgeMs: number
): Promise<SweepReport> {
	const orphanAgeMs = config.orphanAgeMinutes * 60_000;
	const report: SweepReport = { checked: 0, shredded: 0, kept: 0 };
	const now = Date.now();
	for (const entry of entries) {
		report.checked++;
		if (now - entry.modifiedAt < minimumAgeMs) {
			report.kept++;
			continue;
		}
		// Names that are not lookup ids are not ours to judge by the store: only age counts.
		const needed = entry.id !== '' && (await store.isFileNeeded(entry.id));
		if (needed || (entry.id === '' && now - entry.modifiedAt < orphanAgeMs)) {
			report.kept++;
		} else if (await files.shred(entry.path)) {
			report.shredded++;
		}
	}
	return report;
}

/**
 * Every minute: shred stored files whose record is gone (expired, burned, or lost with a
 * Redis that restarted empty) and that no download is reading.
 */
export async function sweepExpired(deps: SweepDeps): Promise<SweepReport> {
	const report = await shredUnneeded(deps, await deps.files.listStored(), 0);
	if (report.shredded > 0) deps.log.info({ event: 'sweep_expired', ...report });
	return report;
}

/**
 * Every CLEANUP_INTERVAL_MINUTES: remove temp parts and stored files older than
 * ORPHAN_AGE_MINUTES that nothing needs (crashed uploads, files of unknown origin).
 */
export async function sweepOrphans(deps: SweepDeps): Promise<SweepReport> {
	const age = deps.config.orphanAgeMinutes * 60_000;
	const temp = await shredUnneeded(deps, await deps.files.listTemp(), age);
	const stored = await shredUnneeded(deps, await deps.files.listStored(), age);
	const report = {
		checked: temp.checked + stored.checked,
		shredded: temp.shredded + stored.shredded,
		kept: temp.kept + stored.kept
	};
	deps.log.info({ event: 'sweep_orphans', ...report });
	return report;
}

/**
 * Free the reservations held by processes that have certainly died (a crash mid-upload with
 * Redis: the reservation outlives its process by up to RESERVATION_TTL_SECONDS, 10 minutes
 * by default; a live upload refreshes it, see drops.ts). Resolves how many.
 */
async function releaseDeadReservations(
	{ store }: SweepDeps,
	entries: FileEntry[]
): Promise<number> {
	let released = 0;
	for (const entry of entries) {
		if (entry.id === '') continue;
		const owner = await store.reservationOwner(entry.id);
		if (owner !== undefined && isDeadOwner(owner)) {
			await store.releaseReservation(entry.id);
			released++;
		}
	}
	return released;
}

/**
 * At start-up: temp parts that no upload holds are left over from a crash; remove them now
 * rather than waiting for ORPHAN_AGE_MINUTES. A part whose reservation is held by a process
 * that died (see process-owner.ts) is debris too. Another instance's upload in progress
 * holds its reservation in the shared store, so its part is kept.
 */
export async function clearStaleTemp(deps: SweepDeps): Promise<SweepReport> {
	const entries = await deps.files.listTemp();
	const released = await releaseDeadReservations(deps, entries);
	if (released > 0) deps.log.info({ event: 'startup_dead_reservations_released', released });
	const report = await shredUnneeded(deps, entries, 0);
	if (report.checked > 0) deps.log.info({ event: 'startup_temp_cleanup', ...report });
	return report;
}
