export type { CreateVolumeRequest, Volume, VolumeRecord } from './local.ts';
export { LocalVolumes } from './local.ts';
export type { ApiMount, MountRequest, Propagation } from './spec.ts';
export {
  ANONYMOUS_LABEL,
  checkDriverOpts,
  checkVolumeName,
  cleanTarget,
  PROPAGATIONS,
  parseApiMount,
  parseBind,
  parseVolumesFrom,
  VALID_VOLUME_NAME,
} from './spec.ts';
