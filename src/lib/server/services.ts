/**
 * The composition root: the process's one instance of each service, built once at start-up
 * (hooks.server.ts `init`) from the validated configuration. The core modules are factories
 * and classes that take what they need (createDrops, Limits, DiskStorage), so tests build
 * their own; only this module and the routes know which instances the process runs with.
 */
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Wordlist } from './diceware';
import { createDrops, type Drops } from './drops';
import { DiskStorage, type FileStorage } from './files';
import { Limits } from './limits';
import { measureStore, noMetrics, type Metrics } from './metrics';
import type { MetadataStore } from './store';
import { Transfers } from './transfers';

export type Services = {
	config: Config;
	log: Logger;
	store: MetadataStore;
	words: Wordlist;
	files: FileStorage;
	limits: Limits;
	transfers: Transfers;
	drops: Drops;
	/** The counting hooks (metrics.ts): `noMetrics` unless a metrics endpoint is configured. */
	metrics: Metrics;
};

type Base = Pick<Services, 'config' | 'log' | 'store' | 'words'> &
	Partial<Pick<Services, 'metrics' | 'files'>>;

/**
 * Build every service from what start-up has opened (config, log, store, word list, and the
 * file storage and metrics when it has them: by default the folders of the configuration and
 * no metrics).
 */
export function buildServices({
	metrics = noMetrics,
	files: openedFiles,
	...opened
}: Base): Services {
	const base = { ...opened, metrics, store: measureStore(opened.store, metrics) };
	const files = openedFiles ?? new DiskStorage(base.config);
	const limits = new Limits(base.config, base.store, metrics);
	const transfers = new Transfers(base.log);
	const drops = createDrops({ ...base, files, limits, transfers });
	return { ...base, files, limits, transfers, drops };
}

let current: Services | undefined;

/** Build the process's services (start-up, once). */
export function startServices(base: Base): Services {
	current = buildServices(base);
	return current;
}

/** The process's metrics hooks; `noMetrics` before start-up (and in tests without a server). */
export function currentMetrics(): Metrics {
	return current?.metrics ?? noMetrics;
}

/** The process's services. @throws before start-up has built them */
export function services(): Services {
	if (!current) throw new Error('Services are used before init() built them');
	return current;
}
