import type { PageServerLoad } from './$types';
import { publicOrigin } from '$lib/server/http/responses';
import { OPENAPI_DOCUMENT, type Operation } from '$lib/server/openapi/document';
import type { OpenAPIV3_1 } from 'openapi-types';

type SchemaObject = OpenAPIV3_1.SchemaObject;

/**
 * `/docs/` renders the page too, not a bodiless 308; Kit makes its asset paths relative to the
 * URL actually requested, so they load from either spelling.
 */
export const trailingSlash = 'ignore';

export type FieldView = { name: string; required: boolean; description: string };
export type EndpointView = {
	id: string;
	method: string;
	path: string;
	summary: string;
	description: string;
	parameters: FieldView[];
	body: { mediaTypes: string[]; fields: FieldView[] } | undefined;
	responses: { status: string; description: string }[];
};

/** Follow a local `#/components/...` reference inside the document (one level is enough). */
function deref<T>(value: T | { $ref: string }): T {
	if (typeof value !== 'object' || value === null || !('$ref' in value)) return value;
	let node: unknown = OPENAPI_DOCUMENT;
	for (const part of value.$ref.replace(/^#\//, '').split('/')) {
		node = (node as Record<string, unknown>)[part];
	}
	return node as T;
}

/** "integer 1-60, default 10. Minutes until …" from a property's schema. */
function describeSchema(property: SchemaObject): string {
	const bits: string[] = [];
	if (property.contentMediaType === 'application/json') bits.push('JSON text');
	else if (typeof property.type === 'string' && property.contentMediaType) bits.push('a file');
	else if (Array.isArray(property.enum)) bits.push(`one of ${property.enum.join(', ')}`);
	else if (typeof property.type === 'string') bits.push(property.type);
	if (typeof property.minimum === 'number' && typeof property.maximum === 'number') {
		bits.push(`${property.minimum}–${property.maximum}`);
	}
	if (property.default !== undefined) bits.push(`default ${String(property.default)}`);
	const lead = bits.join(', ');
	const text = typeof property.description === 'string' ? property.description : '';
	return [lead, text].filter(Boolean).join('. ');
}

function bodyView(body: OpenAPIV3_1.RequestBodyObject): EndpointView['body'] {
	return { mediaTypes: Object.keys(body.content), fields: bodyFields(body) };
}

function bodyFields(body: OpenAPIV3_1.RequestBodyObject): FieldView[] {
	const first = Object.values(body.content)[0]?.schema;
	if (!first) return [];
	const schema = deref<SchemaObject>(first);
	const required = new Set(schema.required ?? []);
	return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
		name,
		required: required.has(name),
		description: describeSchema(deref<SchemaObject>(property))
	}));
}

function viewOf(path: string, method: string, operation: Operation): EndpointView {
	return {
		id: operation.operationId,
		method: method.toUpperCase(),
		path,
		summary: operation.summary,
		description: operation.description,
		parameters: (operation.parameters ?? []).map((p) => {
			const parameter = deref<OpenAPIV3_1.ParameterObject>(p);
			return {
				name: `{${parameter.name}}`,
				required: parameter.required ?? false,
				description: parameter.description ?? ''
			};
		}),
		body:
			operation.requestBody &&
			bodyView(deref<OpenAPIV3_1.RequestBodyObject>(operation.requestBody)),
		responses: Object.entries(operation.responses).map(([status, response]) => ({
			status,
			description: deref<OpenAPIV3_1.ResponseObject>(response).description
		}))
	};
}

/**
 * The reference page is rendered from the same document as /openapi.json, so the two can
 * only differ in prose; the curl examples use the origin the page was asked for.
 */
export const load: PageServerLoad = ({ url }) => {
	const endpoints: EndpointView[] = [];
	for (const [path, item] of Object.entries(OPENAPI_DOCUMENT.paths)) {
		for (const [method, operation] of Object.entries(item)) {
			// HEAD refusals are noted in the GET descriptions; a page of them would be noise.
			if (operation && method !== 'head') endpoints.push(viewOf(path, method, operation));
		}
	}
	return {
		origin: publicOrigin(url),
		version: OPENAPI_DOCUMENT.info.version,
		endpoints
	};
};
