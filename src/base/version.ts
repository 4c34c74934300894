/** Berth's release version (kept in step with package.json by a unit test). */
export const BERTH_VERSION = '0.1.0';
