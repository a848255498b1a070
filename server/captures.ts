import { randomBytes } from 'node:crypto'
import type { CaptureRequest } from '../protocol/capture.ts'
import type { Interrupted } from './image-store.ts'

export type CaptureState = 'waiting' | 'receiving' | 'done' | 'failed'

/** One capture as the dashboard and GET /api/captures show it. */
export interface CaptureView {
  id: string
  name: string
  replace: boolean
  /** The address it came from. */
  from: string
  state: CaptureState
  /** Raw bytes that travel (before compression), and how many are in so far. */
  usedBytes: number
  pieceLength: number
  rawDone: number
  /** Compressed bytes received. */
  received: number
  startedAt: number
  updatedAt: number
  /** Raw bytes a second, over the capture so far. */
  rate: number
  error?: string
  infoHash?: string
  /** The machine marked for it, when it is one (else ezio capture with the operator token). */
  machine?: string
}

/** A capture asked for whose upload does not begin within this is dropped (its name and space freed). */
const START_MS = 60_000
const KEEP = 20

/** The captures this server has seen since it started (and those a restart interrupted). */
export class Captures {
  private readonly runs = new Map<string, CaptureView>()
  private readonly timers = new Map<string, NodeJS.Timeout>()

  /** ONCHANGE is told of every change, and of the capture when it has ended. */
  constructor (private readonly onChange: (ended?: CaptureView) => void) {}

  list (): CaptureView[] {
    return [...this.runs.values()].sort((a, b) => b.startedAt - a.startedAt)
  }

  get (id: string): CaptureView | undefined {
    return this.runs.get(id)
  }

  /** The capture of NAME under way, if one is. */
  active (name: string): CaptureView | undefined {
    return [...this.runs.values()].find(c => c.name === name && (c.state === 'waiting' || c.state === 'receiving'))
  }

  /** Store space the captures under way may still fill. */
  reserved (): number {
    return [...this.runs.values()].filter(c => c.state === 'waiting' || c.state === 'receiving').reduce((sum, c) => sum + c.usedBytes - c.received, 0)
  }

  begin (req: CaptureRequest, from: string, machine?: string): CaptureView {
    const id = randomBytes(8).toString('hex')
    const now = Date.now()
    const c: CaptureView = { id, name: req.name, replace: req.replace, from, state: 'waiting', usedBytes: req.usedBytes, pieceLength: req.pieceLength, rawDone: 0, received: 0, startedAt: now, updatedAt: now, rate: 0, ...(machine ? { machine } : {}) }
    this.runs.set(id, c)
    this.timers.set(id, setTimeout(() => this.fail(id, `no upload began within ${START_MS / 1000} s of the request: capture again`), START_MS).unref())
    this.trim()
    this.onChange()
    return c
  }

  /** Its upload began: the start timer stops; false if it cannot take one (not waiting). */
  receiving (id: string): boolean {
    const c = this.runs.get(id)
    if (c?.state !== 'waiting') return false
    clearTimeout(this.timers.get(id))
    c.state = 'receiving'
    this.onChange()
    return true
  }

  progress (id: string, rawDone: number, received: number): void {
    const c = this.runs.get(id)
    if (!c) return
    c.rawDone = rawDone
    c.received = received
    c.updatedAt = Date.now()
    c.rate = rawDone / Math.max(0.001, (c.updatedAt - c.startedAt) / 1000)
    this.onChange()
  }

  done (id: string, infoHash: string): void {
    this.end(id, c => { c.state = 'done'; c.infoHash = infoHash; c.rawDone = c.usedBytes })
  }

  fail (id: string, error: string): void {
    this.end(id, c => { c.state = 'failed'; c.error = error })
  }

  /** Captures the last stop cut off: shown as failed, with why. */
  interrupted (notes: Interrupted[]): void {
    for (const n of notes) {
      const id = randomBytes(8).toString('hex')
      this.runs.set(id, {
        id, name: n.name, replace: false, from: '', state: 'failed', usedBytes: 0, pieceLength: 0, rawDone: 0, received: 0, startedAt: n.startedAt, updatedAt: Date.now(), rate: 0,
        error: 'ezio serve stopped while this capture was being received: nothing of it was kept; capture again'
      })
    }
  }

  private end (id: string, set: (c: CaptureView) => void): void {
    const c = this.runs.get(id)
    if (!c || c.state === 'done' || c.state === 'failed') return
    clearTimeout(this.timers.get(id))
    this.timers.delete(id)
    set(c)
    c.updatedAt = Date.now()
    this.onChange(c)
  }

  // Finished captures beyond the newest few are forgotten; those under way never are.
  private trim (): void {
    const ended = this.list().filter(c => c.state === 'done' || c.state === 'failed')
    for (const c of ended.slice(KEEP)) this.runs.delete(c.id)
  }
}
