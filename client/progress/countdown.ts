import { EzioError } from '../../engine/errors.ts'

/**
 * The last moment to stop: says in large plain words which disk is about to
 * be erased and with what, and waits SECONDS for any key, which aborts.
 */
export async function eraseCountdown (what: { target: string, disk: string, image: string, imageBytes: number }, seconds: number): Promise<void> {
  const out = process.stderr
  const line = '#'.repeat(72)
  out.write(`\n${line}\n#\n#   ALL DATA ON ${what.target} WILL BE ERASED\n#   disk: ${what.disk}\n` +
    `#   and replaced by ${what.image} (${(what.imageBytes / 1e9).toFixed(2)} GB)\n#\n${line}\n`)
  if (seconds <= 0) return
  const stdin = process.stdin
  if (stdin.isTTY) stdin.setRawMode(true)
  stdin.resume()
  try {
    await new Promise<void>((resolve, reject) => {
      let left = seconds
      const tick = (): void => {
        out.write(`\r    press any key within ${left} s to abort `)
        if (left-- <= 0) { clearInterval(timer); out.write('\n'); stdin.off('data', onKey); resolve() }
      }
      const onKey = (): void => {
        clearInterval(timer)
        out.write('\n')
        reject(new EzioError('aborted', `aborted by the operator before anything was written to ${what.target}`))
      }
      stdin.once('data', onKey)
      const timer = setInterval(tick, 1000)
      tick()
    })
  } finally {
    if (stdin.isTTY) stdin.setRawMode(false)
    stdin.pause()
  }
}
