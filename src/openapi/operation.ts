// One operation of a router's description: its success responses beside the problems it can answer,
// the store's outage among them (every prebuilt route reads or writes a store).
import { mergeCodes, problemResponses, STORE_CODES, type ProblemCodes } from './problems.js';
import type { OpenApiOperation, OpenApiResponse } from './types.js';

export function operation(
  tag: string,
  operationId: string,
  summary: string,
  success: Record<string, OpenApiResponse>,
  codes: ProblemCodes,
  extra: Partial<OpenApiOperation> = {},
): OpenApiOperation {
  return {
    operationId,
    summary,
    tags: [tag],
    ...extra,
    responses: { ...success, ...problemResponses(mergeCodes(codes, STORE_CODES)) },
  };
}
