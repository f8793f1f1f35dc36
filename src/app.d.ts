// See https://svelte.dev/docs/kit/types#app.d.ts
declare global {
	namespace App {
		interface Error {
			message: string;
			error_code: string;
			detail: string;
			request_id?: string;
		}
		interface Locals {
			requestId: string;
			/** performance.now() when the request reached the first handle. */
			startedAt: number;
		}
		interface Platform {
			/**
			 * adapter-node's: the Node request, whose stream an upload's body is read from
			 * (src/lib/server/http/upload-body.ts); absent under `vite dev`.
			 */
			req?: import('node:http').IncomingMessage;
		}
	}
}

export {};
