import { promises as fs } from 'node:fs'
import path from 'node:path'
import { macBytes } from '../protocol/machine-id.ts'
import { cloneOpen, type Machine, type Machines } from './machines.ts'

export type CloneResult = 'done' | 'failed' | 'aborted'

export interface HistoryRow {
  machine: string
  name: string
  mac: string
  ip: string
  image: string
  start: string
  end: string
  seconds: number
  fromServer: number
  fromPeers: number
  result: CloneResult
  message: string
}

const columns: (keyof HistoryRow)[] = ['machine', 'name', 'mac', 'ip', 'image', 'start', 'end', 'seconds', 'fromServer', 'fromPeers', 'result', 'message']
export const historyHeader = 'machine,name,mac,ip,image,start,end,seconds,bytes_from_server,bytes_from_peers,result,message\n'

/**
 * One row per clone, appended to STATE/history.csv as each clone ends, so the
 * record outlives the server. The rows come from the machines' changes: a
 * clone that was open and is now complete, failed, or given up (the machine
 * booted again, or was turned away, before it was done).
 */
export class History {
  private writing: Promise<void> = Promise.resolve()

  constructor (private readonly stateDir: string, machines: Machines, imageOf: (infoHash: string | null) => string) {
    machines.on('change', (before: Machine | undefined, after: Machine) => {
      const row = before && endOf(before, after, imageOf)
      if (row) this.append(row)
    })
  }

  /** The whole record, header first. */
  async csv (): Promise<string> {
    await this.writing
    const rows = await fs.readFile(this.file(), 'utf8').catch(() => '')
    return historyHeader + rows
  }

  async flush (): Promise<void> {
    await this.writing
  }

  private append (row: HistoryRow): void {
    const line = columns.map(c => csvField(row[c])).join(',') + '\n'
    this.writing = this.writing.then(() => fs.appendFile(this.file(), line)).catch(() => {})
  }

  private file (): string {
    return path.join(this.stateDir, 'history.csv')
  }
}

/** The row for the clone that BEFORE had open and AFTER has ended, if it has. */
export function endOf (before: Machine, after: Machine, imageOf: (infoHash: string | null) => string): HistoryRow | undefined {
  if (!cloneOpen(before)) return undefined
  let result: CloneResult
  let message = ''
  if (after.doneAt !== null) result = 'done'
  else if (after.state === 'failed') [result, message] = ['failed', after.error ?? '']
  else if (!cloneOpen(after) || after.startedAt !== before.startedAt) {
    result = 'aborted'
    message = after.state === 'booting' ? 'the machine booted again before its clone was complete' : after.error ?? `the machine is now ${after.state}`
  } else return undefined
  const start = before.startedAt ?? Date.now()
  const end = after.doneAt ?? Date.now()
  // What it had received by the end: a report that failed carries its last counts.
  const last = after.startedAt === before.startedAt ? after : before
  return {
    machine: before.id,
    name: before.name ?? '',
    mac: macBytes(before.id) ? before.id : '',
    ip: after.ip || before.ip,
    image: imageOf(before.fetched),
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    seconds: Math.round((end - start) / 100) / 10,
    fromServer: last.fromSeeder,
    fromPeers: last.fromPeers,
    result,
    message
  }
}

// RFC 4180: a field with a comma, quote or line break is quoted, its quotes
// doubled. A text a spreadsheet would take for a formula (a machine's error
// message is the machine's) starts with a quote mark.
function csvField (value: string | number): string {
  const s = typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : String(value)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}
