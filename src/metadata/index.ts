export type { ImageRecord } from './images.ts';
export { ImageMetadataStore } from './images.ts';
export type { BlobSource } from './distribution.ts';
export { DistributionMetadata } from './distribution.ts';
