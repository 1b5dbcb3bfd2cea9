// The request context every middleware shares. Each area adds its fields by declaration merging.

/**
 * What Portcullis knows about the current request. Middlewares read what earlier ones put here:
 * `authenticate` adds `principal` and `permissions`, `authorize` adds `decision`, the filter adds `query`,
 * `auditTrail` adds `audit`. Each area declares its fields with
 * `declare module 'portcullis' { interface RequestContext { … } }` (inside this repository, the module
 * path of this file), so the type grows with the features that are loaded.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- extended by declaration merging
export interface RequestContext extends CoreRequestContext {}

export interface CoreRequestContext {
  /** A safe id for the request: the caller's `X-Request-Id` when well-formed, else a new UUID. */
  requestId: string;
  /** `performance.now()` when the context was created, for latency. */
  startedAt: number;
}
