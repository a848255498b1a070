export function mb (bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}

export function rate (bytesPerSecond: number): string {
  return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`
}

export function duration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--'
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`
}

export function percent (done: number, total: number): string {
  return `${(total > 0 ? (100 * done) / total : 100).toFixed(1)}%`
}

export function bar (done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.min(width, Math.floor((width * done) / total)) : width
  return '[' + '#'.repeat(filled) + '.'.repeat(width - filled) + ']'
}
