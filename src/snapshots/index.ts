export type { LayerMeta, PreparedLayer } from './layers.ts';
export { LayerSnapshots } from './layers.ts';
export type { OverlayMount } from './overlay.ts';
export { isMounted, mountOverlay, unmount } from './overlay.ts';
