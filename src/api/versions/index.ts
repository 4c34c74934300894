// API version handling: which versions are served, which behaviours and response fields each
// one has, and how an older or newer create request is read. The one place that knows the
// Engine API's version history; handlers thread `ctx.version` through these functions.
export { apiHas, type Behaviour, sinceVersion } from './behaviour.ts';
export { adaptCreateBody, type CreateBodyParts } from './create.ts';
export { fieldRules, shapeFor, type VersionedView } from './fields.ts';
export { API_VERSION, compareVersions, inRange, MIN_API_VERSION, type VersionRange } from './version.ts';
