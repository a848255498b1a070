import type { CloneStatus } from '../../protocol/status.ts'

/**
 * POSTs status objects to the server's report URL. Reports are best effort:
 * a server that is restarting must not stop a clone. One request at a time;
 * the newest status replaces one that is waiting.
 */
export class Reporter {
  private pending: CloneStatus | undefined
  private inFlight: Promise<void> | undefined

  constructor (private readonly url: string | undefined) {}

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
        await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(3000) })
      } catch {
        // The server may be down or restarting: the next status will try again.
      }
    }
    this.inFlight = undefined
  }
}
