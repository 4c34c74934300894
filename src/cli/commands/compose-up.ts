import type { Command } from 'commander';
import type { ComposeContext } from './compose.ts';

export function registerComposeUp(compose: Command, cc: ComposeContext): void {
  void compose;
  void cc;
}
