export type { LayerMeta, PreparedLayer } from './layers.ts';
export { LayerSnapshots } from './layers.ts';
