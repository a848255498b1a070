/**
 * A message from the other side that does not follow the protocol. The side
 * that reads it decides what that means: a machine stops (a bad config), the
 * server answers 400 (a bad report).
 */
export class ProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}
