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
	}
}

export {};
