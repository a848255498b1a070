// How a capture travels from the reference machine to `ezio serve`
// (docs/capture.md): a request to start it, checked before a byte is read,
// then one streamed body of frames, each a piece of the compressed payload
// as the torrent will hold it, and last the torrent itself.

/** An image's name: a file name on the server and a part of its URLs. */
export const imageNameRule = /^[A-Za-z0-9._-]+$/

/** A name a capture may take: the server, its mark route and the appliance hold names to the same rule. */
export function isImageName (name: unknown): name is string {
  return typeof name === 'string' && imageNameRule.test(name) && name.length <= 100
}

export function imageNameError (name: unknown): string {
  return `${JSON.stringify(name)?.slice(0, 40)} is no image name: letters, digits, ".", "_" and "-" (at most 100)`
}

/** POST /api/captures: what the server checks before it accepts a capture. */
export interface CaptureRequest {
  name: string
  /** Take the name of an image already in the store. */
  replace: boolean
  /** Bytes that travel, before compression: the store must have room for them. */
  usedBytes: number
  diskSize: number
  pieceLength: number
}

/** The answer: where to send the frames. */
export interface CaptureStarted {
  id: string
  upload: string
}

export const FRAME_PIECE = 1
export const FRAME_TORRENT = 2
/** Kind (u8), length (u32), raw bytes packed so far (u64), all big-endian. */
export const FRAME_HEADER = 13

export function frameHeader (kind: number, length: number, rawDone: number): Buffer {
  const h = Buffer.alloc(FRAME_HEADER)
  h.writeUInt8(kind, 0)
  h.writeUInt32BE(length, 1)
  h.writeBigUInt64BE(BigInt(rawDone), 5)
  return h
}

export interface FrameHead { kind: number, length: number, rawDone: number }

export function readFrameHeader (h: Buffer): FrameHead {
  return { kind: h.readUInt8(0), length: h.readUInt32BE(1), rawDone: Number(h.readBigUInt64BE(5)) }
}

/** A CaptureRequest from untrusted JSON, or the reason it is none. */
export function parseCaptureRequest (text: string): CaptureRequest | string {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    return 'the body is not JSON: send {"name", "replace", "usedBytes", "diskSize", "pieceLength"}'
  }
  if (typeof v !== 'object' || v === null) return 'the body is not a JSON object'
  const o = v as Record<string, unknown>
  if (!isImageName(o.name)) return imageNameError(o.name)
  for (const key of ['usedBytes', 'diskSize', 'pieceLength'] as const) {
    const n = o[key]
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) return `${key} must be a positive whole number of bytes`
  }
  if (o.replace !== undefined && typeof o.replace !== 'boolean') return 'replace must be true or false'
  return { name: o.name, replace: o.replace === true, usedBytes: o.usedBytes as number, diskSize: o.diskSize as number, pieceLength: o.pieceLength as number }
}
