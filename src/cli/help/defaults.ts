// docker 28's `(default …)` hints where a commander default cannot say them. pflag prints the
// flag value's String() unless it is the type's zero value, so docker's list types with a
// `[]`-printing String (ulimits, device throttles, weight devices), its map types (`map[]`) and
// durations (`0s`) show a hint berth's empty arrays and undefined values do not; and a few
// docker flags keep an unprinted default that berth stores as a string ('0', '25').
// Each entry is the text inside the parentheses; '' means no hint.

/** By long flag name, for every command that has the flag. */
const BY_FLAG: Readonly<Record<string, string>> = {
  '--annotation': 'map[]',
  '--sysctl': 'map[]',
  '--opt': 'map[]',
  '--aux-address': 'map[]',
  '--ipam-opt': 'map[]',
  '--ulimit': '[]',
  '--blkio-weight-device': '[]',
  '--device-read-bps': '[]',
  '--device-read-iops': '[]',
  '--device-write-bps': '[]',
  '--device-write-iops': '[]',
  '--docker': '[]',
  '--blkio-weight': '0',
  '--health-interval': '0s',
  '--health-start-interval': '0s',
  '--health-start-period': '0s',
  '--health-timeout': '0s',
  '--memory-swappiness': '-1',
  '--oom-score-adj': '',
  '--last': '-1',
  '--ipam-driver': '"default"',
  '--disable-content-trust': 'true',
};

/** By leaf command name, where one flag's default differs between commands. */
const BY_COMMAND: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  build: { '--network': '"default"', '--rm': 'true' },
  attach: { '--sig-proxy': 'true' },
  search: { '--limit': '' },
};

/** docker's hint for `flag` of command `command`, or undefined where the option's own default says it. */
export function dockerDefaultHint(command: string, flag: string | undefined): string | undefined {
  if (!flag) return undefined;
  return BY_COMMAND[command]?.[flag] ?? BY_FLAG[flag];
}
