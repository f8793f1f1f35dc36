/**
 * The composition root: the process's one instance of each service, built once at start-up
 * (hooks.server.ts `init`) from the validated configuration. The core modules are factories
 * and classes that take what they need (createDrops, Limits, FileStorage), so tests build
 * their own; only this module and the routes know which instances the process runs with.
 */
import type { Logger } from 'pino';
import type { Config } from './config';
import type { Wordlist } from './diceware';
import { createDrops, type Drops } from './drops';
import { FileStorage } from './files';
import { Limits } from './limits';
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
};

/** Build every service from what start-up has opened (config, log, store, word list). */
export function buildServices(
	base: Pick<Services, 'config' | 'log' | 'store' | 'words'>
): Services {
	const files = new FileStorage(base.config);
	const limits = new Limits(base.config, base.store);
	const transfers = new Transfers(base.log);
	const drops = createDrops({ ...base, files, limits, transfers });
	return { ...base, files, limits, transfers, drops };
}

let current: Services | undefined;

/** Build the process's services (start-up, once). */
export function startServices(
	base: Pick<Services, 'config' | 'log' | 'store' | 'words'>
): Services {
	current = buildServices(base);
	return current;
}

/** The process's services. @throws before start-up has built them */
export function services(): Services {
	if (!current) throw new Error('Services are used before init() built them');
	return current;
}
