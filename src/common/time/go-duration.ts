/** Durations in log lines, written like Go's time.Duration.String(), as the reference prints them. */

/** Go's time.Duration.String() for the durations in log lines: 812.5µs, 12.3456ms, 2.5s, 1m0s, 1h2m3s. */
export function formatGoDuration(ms: number): string {
  const totalNs = Math.round(ms * 1e6);
  if (totalNs === 0) return '0s';
  const sign = totalNs < 0 ? '-' : '';
  const ns = Math.abs(totalNs);
  const trim = (value: string) => value.replace(/\.?0+$/, '');
  if (ns < 1_000) return `${sign}${ns}ns`;
  if (ns < 1_000_000) return `${sign}${trim((ns / 1_000).toFixed(3))}µs`;
  if (ns < 1_000_000_000) return `${sign}${trim((ns / 1_000_000).toFixed(6))}ms`;
  const hours = Math.floor(ns / 3_600_000_000_000);
  const minutes = Math.floor((ns % 3_600_000_000_000) / 60_000_000_000);
  const seconds = trim(((ns % 60_000_000_000) / 1e9).toFixed(9));
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
