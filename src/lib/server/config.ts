/**
 * The service's configuration: every environment variable Raven Zero reads, parsed and
 * validated once.
 *
 * The variables are declared in one table, SETTINGS in server/shared.js (name, default,
 * meaning, valibot schema), plain JavaScript so that server/index.js can parse the same table
 * before it imports the build. This is the only module of the bundle that reads `process.env`.
 * A bad value throws a StartupError whose message is one line in adapter-node's format, which
 * the entry point prints without a stack trace before exiting with code 1.
 */
import {
	MULTIPART_HEADROOM_BYTES,
	parseConfig,
	StartupError,
	type Config,
	type LogLevel,
	type RateLimit
} from '../../../server/shared.js';

export { MULTIPART_HEADROOM_BYTES, parseConfig, StartupError };
export type { Config, LogLevel, RateLimit };

let loaded: Config | undefined;

/** The validated configuration of this process, parsed from `process.env` on first use. */
export function getConfig(): Config {
	loaded ??= parseConfig(process.env);
	return loaded;
}
