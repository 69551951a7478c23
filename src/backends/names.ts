// The backends a job may name (payload.backend, GROK_BACKEND). A plain list with no imports,
// so the payload schema and the settings read it without loading any backend.
export const BACKEND_NAMES = ['browser', 'api'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
