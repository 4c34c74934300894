import { ConflictError, InvalidArgumentError } from '../errdefs/index.ts';
// Docker-style generated names: adjective_surname. The word lists are Berth's own (harbour
// and sea words, and navigators and scientists of the sea).
const ADJECTIVES = [
  'amazing', 'brave', 'calm', 'clever', 'dazzling', 'eager', 'elated', 'fervent', 'gentle', 'happy',
  'hopeful', 'jolly', 'keen', 'kind', 'lucid', 'merry', 'nifty', 'nimble', 'optimistic', 'patient',
  'quirky', 'relaxed', 'serene', 'sharp', 'steady', 'sturdy', 'swift', 'tender', 'upbeat', 'vibrant',
  'wise', 'zealous', 'bold', 'bright', 'crisp', 'daring', 'festive', 'gallant', 'hardy', 'lively',
]; // biome-ignore format: word list
const SURNAMES = [
  'ballard', 'beaufort', 'bering', 'bougainville', 'carson', 'cook', 'cousteau', 'dampier', 'darwin', 'earle',
  'ekman', 'fridtjof', 'heyerdahl', 'humboldt', 'hudson', 'kelvin', 'magellan', 'maury', 'mercator', 'nansen',
  'piccard', 'ross', 'shackleton', 'stommel', 'sverdrup', 'tasman', 'tharp', 'vancouver', 'walsh', 'zheng',
  'amundsen', 'baffin', 'cabot', 'drake', 'franklin', 'hartog', 'kon', 'laperouse', 'munk', 'ride',
]; // biome-ignore format: word list

export function generateName(taken: (name: string) => boolean, random = Math.random): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const a = ADJECTIVES[Math.floor(random() * ADJECTIVES.length)]!;
    const s = SURNAMES[Math.floor(random() * SURNAMES.length)]!;
    const name = attempt < 10 ? `${a}_${s}` : `${a}_${s}${Math.floor(random() * 10)}`;
    if (!taken(name)) return name;
  }
  throw new Error('could not generate a unique container name');
}

/** Docker's rule for user-given names. */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A user-given name (without its leading `/`): Docker's rule, else INVALID_NAME. */
export function checkName(name: string): void {
  if (!VALID_NAME.test(name)) {
    throw new InvalidArgumentError(
      'INVALID_NAME',
      `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
}

/** Refuses a name another container holds, with Docker's message. */
export function checkNameFree(byName: (name: string) => { id: string } | undefined, name: string): void {
  const holder = byName(name);
  if (holder) {
    throw new ConflictError(
      'NAME_IN_USE',
      `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
    );
  }
}
