// pino-roll ships no types; this is the part of its API we use (see its README).
declare module 'pino-roll' {
	import type { DestinationStream } from 'pino';
	type Options = {
		file: string;
		extension?: string;
		size?: string | number;
		frequency?: string | number;
		limit?: { count?: number; removeOtherLogFiles?: boolean };
		symlink?: boolean;
		mkdir?: boolean;
	};
	export default function pinoRoll(options: Options): Promise<DestinationStream>;
}
