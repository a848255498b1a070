import { EzioError } from '../../engine/errors.ts'
import type { CloneStatus } from '../../protocol/status.ts'

// Failures in a row before the trouble is said: a server restarting is one or two.
const SAY_AFTER = 3

/**
 * POSTs status objects to the server's report URL. Reports are best effort:
 * a server that is restarting must not stop a clone. One request at a time;
 * the newest status replaces one that is waiting. Reports that keep failing
 * are said once on the console (SAY), and trouble() gives the reason for the
 * clone's summary.
 */
export class Reporter {
  /**
   * Rejects when the server answers 410: it no longer serves this machine's
   * torrent (its image changed since), and a clone of it could never finish.
   */
  readonly stopped: Promise<never>
  private stop: (err: EzioError) => void = () => {}
  private pending: CloneStatus | undefined
  private inFlight: Promise<void> | undefined
  private failures = 0
  private failing: string | undefined
  private said = false

  constructor (private readonly url: string | undefined, private readonly say: (line: string) => void = line => process.stderr.write(line + '\n')) {
    this.stopped = new Promise<never>((_resolve, reject) => { this.stop = reject })
    this.stopped.catch(() => {})
  }

  /** Why the reports are not reaching the server, once they have failed SAY_AFTER times in a row; else undefined. */
  trouble (): string | undefined {
    return this.failures >= SAY_AFTER ? this.failing : undefined
  }

  send (status: CloneStatus): void {
    if (!this.url) return
    this.pending = status
    if (!this.inFlight) this.inFlight = this.drain()
  }

  /** Waits until the last status is delivered (or failed), at most timeoutMs. */
  async flush (timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while ((this.inFlight || this.pending) && Date.now() < deadline) {
      if (!this.inFlight && this.pending) this.inFlight = this.drain()
      await Promise.race([this.inFlight, new Promise(resolve => setTimeout(resolve, 100))])
    }
  }

  private async drain (): Promise<void> {
    while (this.pending && this.url) {
      const body = JSON.stringify(this.pending)
      this.pending = undefined
      try {
        const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(3000) })
        const text = res.ok ? '' : (await res.text()).trim().split('\n')[0]?.slice(0, 200)
        if (res.status === 410) this.stop(new EzioError('staleImage', text || 'the server no longer serves this machine\'s torrent'))
        this.outcome(res.ok ? undefined : `HTTP ${res.status}${text ? `: ${text}` : ''}`)
      } catch (err) {
        // The server may be down or restarting: the next status will try again.
        const e = err as { cause?: { code?: string }, message?: string }
        this.outcome(e.cause?.code ?? e.message ?? String(err))
      }
    }
    this.inFlight = undefined
  }

  private outcome (failure: string | undefined): void {
    if (failure === undefined) {
      this.failures = 0
      return
    }
    this.failures++
    this.failing = failure
    if (this.failures >= SAY_AFTER && !this.said) {
      this.said = true
      this.say(`ezio: reports to ${new URL(this.url!).origin} fail (${failure}): the dashboard does not see this machine; the clone goes on`)
    }
  }
}
