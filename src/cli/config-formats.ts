// The docker CLI's config.json keys that set a listing's default --format (psFormat,
// imagesFormat, volumesFormat, networksFormat, statsFormat), read as docker 28 reads them: an
// explicit non-empty --format wins, and -q ignores the configured one (it prints IDs or names).
// The file is `$DOCKER_CONFIG/config.json` (`--config` sets DOCKER_CONFIG), else ~/.docker's.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type FormatKey = 'psFormat' | 'imagesFormat' | 'volumesFormat' | 'networksFormat' | 'statsFormat';

function configFile(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG || path.join(os.homedir(), '.docker'), 'config.json');
}

/** The configured format under `key`, or undefined (no file, no key, or not a string). */
export function configuredFormat(key: FormatKey, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(configFile(env), 'utf8'));
  } catch {
    // No file, or one the context and login commands report when they read it: no default.
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const v = (parsed as Record<string, unknown>)[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The format a listing uses: `--format` if given, else config.json's unless -q asked for IDs. */
export function effectiveFormat(
  flag: string | undefined,
  key: FormatKey,
  quiet = false,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (flag !== undefined && flag !== '') return flag;
  return quiet ? flag : (configuredFormat(key, env) ?? flag);
}
