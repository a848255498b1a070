// Every refusal and failure leaves through EzioError, so that each one has a
// one-line message that says what to do and an exit code a script can test.
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badTorrent: 3,
  targetMissing: 4,
  targetMounted: 5,
  targetTooSmall: 6,
  writeFailed: 7,
  network: 8,
  verifyFailed: 9,
  aborted: 10,
  noTarget: 11,
  badImage: 12,
  refused: 13
} as const

export type ExitCodeName = keyof typeof ExitCode

export class EzioError extends Error {
  readonly code: ExitCodeName
  constructor (code: ExitCodeName, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EzioError'
    this.code = code
  }

  get exitCode (): number {
    return ExitCode[this.code]
  }
}

/** The table printed by `--help`, kept here so that it cannot drift from the codes. */
export const exitCodeHelp = `Exit codes:
  0 done            1 internal error    2 usage error
  3 bad torrent     4 target missing or not writable
  5 target mounted  6 target too small  7 write failed (EIO, ENOSPC, ...)
  8 network         9 verify found bad pieces   10 aborted by the operator
 11 no target disk found (auto)   12 image unreadable   13 refused by the server`

export function errnoOf (err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}
