// Go's time.Time String() for a Unix time in the local zone, as docker prints CreatedAt:
// `2006-01-02 15:04:05 -0700 MST`. JS has no zone abbreviations, so a zone other than UTC
// prints its offset in the abbreviation's place, as Go does for zones without one.
export function goTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  const offMin = -d.getTimezoneOffset();
  const sign = offMin < 0 ? '-' : '+';
  const off = `${sign}${p(Math.floor(Math.abs(offMin) / 60))}${p(Math.abs(offMin) % 60)}`;
  const zone = offMin === 0 ? 'UTC' : off;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${off} ${zone}`;
}
