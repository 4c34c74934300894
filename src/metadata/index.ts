export type { ImageRecord } from './images.ts';
export { ImageMetadataStore } from './images.ts';
