// The parts of an OpenAPI 3.1 document Portcullis writes, typed loosely enough to merge and extend.

/** A JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1). */
export type JsonSchema = { [keyword: string]: unknown };

export interface OpenApiParameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  description?: string;
  schema?: JsonSchema;
  /** For values sent as JSON text (`status__in=["a","b"]`). */
  content?: Record<string, { schema: JsonSchema; example?: unknown }>;
  example?: unknown;
}

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description?: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
  /** The problem codes this response answers with (`code` of the problem+json body). */
  'x-problem-codes'?: string[];
}

export interface OpenApiOperation {
  operationId: string;
  summary: string;
  description?: string;
  tags?: string[];
  parameters?: OpenApiParameterOrRef[];
  requestBody?: { required?: boolean; description?: string; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse | { $ref: string }>;
  /** `[]` for a route that needs no credential. */
  security?: Record<string, string[]>[];
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch';
/** A parameter, or a reference to one in `components.parameters`. */
export type OpenApiParameterOrRef = OpenApiParameter | { $ref: string };

export type OpenApiPathItem = Partial<Record<HttpMethod, OpenApiOperation>> & { parameters?: OpenApiParameter[] };

export interface OpenApiSecurityScheme {
  type: 'apiKey' | 'http';
  description?: string;
  name?: string;
  in?: 'header';
  scheme?: string;
  bearerFormat?: string;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: OpenApiInfo;
  jsonSchemaDialect: string;
  servers?: { url: string; description?: string }[];
  security?: Record<string, string[]>[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, OpenApiPathItem>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters?: Record<string, OpenApiParameter>;
    securitySchemes?: Record<string, OpenApiSecurityScheme>;
  };
}
