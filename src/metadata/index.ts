export type { ImageRecord } from './images.ts';
export { ImageMetadataStore } from './images.ts';
export type { BlobSource } from './distribution.ts';
export { DistributionMetadata } from './distribution.ts';
export type { BuildCacheRecord } from './build-cache.ts';
export { BuildCacheStore } from './build-cache.ts';
