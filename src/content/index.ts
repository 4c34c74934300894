export type { BlobInfo, ContentReader, ContentStore, ContentWriter } from './store.ts';
export { LocalContentStore } from './store.ts';
