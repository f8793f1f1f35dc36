/**
 * `components.schemas` of the OpenAPI document: the wire shapes of $lib/schemas, under the
 * names the document has always given them, and the references that point at them. Each
 * schema is complete in itself: the small shapes (timestamps, file names) are written into
 * the ones that use them rather than referenced, so a body validates against its schema alone.
 */
import type { OpenAPIV3_1 } from 'openapi-types';
import type { TSchema } from 'typebox';
import type { ErrorCode } from '../../errors';
import * as wire from '../../schemas';

const SCHEMAS = {
	Error: wire.PlainErrorBody,
	InvalidPassphraseError: wire.InvalidPassphraseBody,
	UnknownPassphraseError: wire.UnknownPassphraseBody,
	InternalError: wire.InternalErrorBody,
	Passphrase: wire.Passphrase,
	Sha256: wire.Sha256,
	UploadForm: wire.UploadForm,
	PassphraseBody: wire.PassphraseBody,
	AccessKey: wire.AccessKey,
	CreatedDrop: wire.CreatedDropBody,
	DropPreview: wire.DropPreviewBody,
	DropStatus: wire.DropStatusBody,
	HealthReport: wire.HealthReport
} satisfies Record<string, TSchema>;

export type SchemaName = keyof typeof SCHEMAS;
export type Schema = OpenAPIV3_1.SchemaObject | OpenAPIV3_1.ReferenceObject;

/**
 * A TypeBox schema as an OpenAPI one. TypeBox builds JSON Schema 2020-12, which is the schema
 * dialect of OpenAPI 3.1; its types do not say so, hence the one cast, here.
 */
export function openApiSchema(schema: TSchema): OpenAPIV3_1.SchemaObject {
	return schema as OpenAPIV3_1.SchemaObject;
}

export const COMPONENT_SCHEMAS = Object.fromEntries(
	Object.entries(SCHEMAS).map(([name, schema]) => [name, openApiSchema(schema)])
) as Record<SchemaName, OpenAPIV3_1.SchemaObject>;

export function schemaRef(name: SchemaName): OpenAPIV3_1.ReferenceObject {
	return { $ref: `#/components/schemas/${name}` };
}

/**
 * The error shape narrowed to the codes one response can carry: the shared `Error` schema
 * with a sibling `error_code` enum (2020-12 applies both).
 */
export function errorBodySchema(codes: readonly ErrorCode[]): Schema {
	return {
		...schemaRef('Error'),
		type: 'object',
		properties: { error_code: { enum: [...codes] } }
	};
}
