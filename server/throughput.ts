/** One point of the room's throughput chart: ms since epoch, bytes per second down and up. */
export type RatePoint = [number, number, number]

/**
 * The room's aggregate rates over time, one point every 5 s for the last
 * hour: the dashboard's chart. Sampled as reports arrive, so a room with no
 * machine reporting adds nothing.
 */
export class Throughput {
  readonly points: RatePoint[] = []

  constructor (private readonly everyMs = 5000, private readonly keep = 720) {}

  /** RATES is asked only when a point is due. */
  sample (rates: () => { downRate: number, upRate: number }, now = Date.now()): void {
    const last = this.points.at(-1)
    if (last && now - last[0] < this.everyMs) return
    const { downRate, upRate } = rates()
    this.points.push([now, Math.round(downRate), Math.round(upRate)])
    if (this.points.length > this.keep) this.points.shift()
  }
}
