/** Berth's release version (kept in step with package.json by a unit test). */
export const BERTH_VERSION = '0.1.0';

// Set by scripts/build.mjs (esbuild `define`) to the short commit the bundle was built from.
declare const __BERTH_GIT_COMMIT__: string | undefined;

/** The commit the running bundle was built from ('' when run from source). */
export const BERTH_GIT_COMMIT: string = typeof __BERTH_GIT_COMMIT__ === 'string' ? __BERTH_GIT_COMMIT__ : '';
