import type { Command } from 'commander';
import type { ComposeContext } from './compose.ts';

export function registerComposeLifecycle(compose: Command, cc: ComposeContext): void {
  void compose;
  void cc;
}
