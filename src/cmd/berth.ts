// berth entry point.
import { runCli } from '../cli/main.ts';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`berth: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
