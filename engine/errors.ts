/**
 * What kind of failure an EzioError is. Each kind says what went wrong in a
 * way a script can test: cli/exit-codes.ts gives each its own exit code.
 */
export type ErrorKind =
  | 'internal'
  | 'usage'
  | 'badTorrent'
  | 'targetMissing'
  | 'targetMounted'
  | 'targetTooSmall'
  | 'writeFailed'
  | 'network'
  | 'verifyFailed'
  | 'aborted'
  | 'noTarget'
  | 'badImage'
  | 'refused'
  | 'alreadyImaged'
  | 'badConfig'
  | 'tableMismatch'
  | 'untrusted'
  | 'staleImage'
  | 'sourceInUse'

/**
 * Every refusal and failure leaves through EzioError, so that each one has a
 * one-line message that says what to do, and a kind.
 */
export class EzioError extends Error {
  readonly kind: ErrorKind
  constructor (kind: ErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EzioError'
    this.kind = kind
  }
}

/** The error as an EzioError: unknown errors become internal ones with their message. */
export function asEzioError (err: unknown): EzioError {
  return err instanceof EzioError ? err : new EzioError('internal', (err as Error)?.message ?? String(err))
}

export function errnoOf (err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}
