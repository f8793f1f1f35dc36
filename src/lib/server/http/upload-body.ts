import type { IncomingMessage } from 'node:http';
import type { RequestEvent } from '@sveltejs/kit';
import { UPLOAD_BODY_KEY } from '../../../../server/shared.js';
import type { UploadRequest } from '../upload';

/** What server/index.js leaves on a Node request whose body it kept out of Kit's Request. */
type HandedOver = IncomingMessage & { [UPLOAD_BODY_KEY]?: { contentLength: number | undefined } };

/**
 * The upload a request carries, for the upload route and the send page's action. Behind
 * server/index.js a multipart upload's body is the Node request itself (`platform.req`,
 * which adapter-node passes), read by busboy without Kit's web stream in between; elsewhere
 * (`vite dev`, a request the entry point left alone) it is the Request's body, as before.
 */
export function uploadRequest(event: Pick<RequestEvent, 'request' | 'platform'>): UploadRequest {
	const contentType = event.request.headers.get('content-type');
	const req = event.platform?.req as HandedOver | undefined;
	const handedOver = req?.[UPLOAD_BODY_KEY];
	if (req && handedOver) return { body: req, contentType, contentLength: handedOver.contentLength };
	const length = event.request.headers.get('content-length');
	return {
		body: event.request.body,
		contentType,
		contentLength: length === null ? undefined : Number(length)
	};
}
