import { bar, mb, percent } from '../../engine/format.ts'
import type { CaptureResult } from '../capture.ts'

/** A capture's progress on STREAM: redrawn in place on a terminal, else a line every 10 s (the appliance's console log). */
export function captureProgress (stream: NodeJS.WriteStream = process.stderr): { update: (rawDone: number, rawTotal: number, sent: number) => void, end: () => void } {
  let drawn = 0
  const tty = !!stream.isTTY
  return {
    update: (done, total, sent) => {
      if (Date.now() - drawn < (tty ? 200 : 10_000) && done < total) return
      drawn = Date.now()
      const line = `capturing ${bar(done, total)} ${percent(done, total)} ${mb(done)}/${mb(total)} MB, ${mb(sent)} MB sent`
      stream.write(tty ? `\r${line}` : `${line}\n`)
    },
    end: () => { if (tty && drawn) stream.write('\n') }
  }
}

/** The line a finished capture leaves: what was read, what was sent, how fast, and the image's info hash. */
export function captureSummary (source: string, server: string, r: CaptureResult): string {
  return `captured ${source} as ${r.name} on ${server}: ${mb(r.usedBytes)} MB used, ${mb(r.payload)} MB sent in ${r.seconds.toFixed(1)} s (${mb(r.usedBytes / r.seconds)} MB/s); info hash ${r.infoHash}\n`
}
