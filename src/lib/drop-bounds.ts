/**
 * The upload form's `expiry` (minutes) and `uses` fields: bounds and defaults. One place for
 * the server's checks, the OpenAPI schemas and the send page's choices; a module of its own
 * so the pages get these numbers without the schema library.
 */
export const EXPIRY_MINUTES = { min: 1, max: 60, default: 10 } as const;
export const USES = { min: 1, max: 5, default: 1 } as const;
