import { promises as fs } from 'node:fs'
import parseTorrent from 'parse-torrent'
import { EzioError } from '../errors.ts'
import { COMPRESSED_KEY, decodeCompressedMap, PAYLOAD_SUFFIX, type CompressedMap } from '../compress/mapping.ts'
import { badPieceSize, MAX_TORRENT_BYTES, tooManyPieces } from './piece-size.ts'
import { layoutOf, type Layout, type TorrentFileEntry } from './layout.ts'
import { decodeLayoutRecord, recordMinSize, type LayoutRecord } from './layout-record.ts'

export interface TorrentMeta {
  file: Uint8Array
  infoHash: string
  name: string
  length: number
  pieceLength: number
  lastPieceLength: number
  /** SHA-1 of each piece, hex. */
  pieces: string[]
  announce: string[]
  private: boolean
  /** For a compressed torrent, the extents are those of the raw stream its pieces decompress to (compressed.runs). */
  layout: Layout
  /** How each compressed piece maps to disk bytes (ezio create --compress); absent for every other torrent. */
  compressed?: CompressedMap
  /** Where a whole disk's partitions lie (ezio create --used-blocks); absent for raw images and upstream torrents. */
  record?: LayoutRecord
  info: Record<string, unknown>
}

/** Reads a .torrent file (one from a server is fetched by the machine's side: client/fetch.ts). */
export async function readTorrentFile (source: string): Promise<Uint8Array> {
  let file: Uint8Array
  try {
    const size = (await fs.stat(source)).size
    if (size > MAX_TORRENT_BYTES) throw new EzioError('badTorrent', `${source} is ${size} bytes, over the ${MAX_TORRENT_BYTES} a torrent may be: it is no torrent ezio made`)
    file = await fs.readFile(source)
  } catch (err) {
    if (err instanceof EzioError) throw err
    throw new EzioError('badTorrent', `cannot read the torrent ${source}: ${(err as Error).message}`)
  }
  return file
}

export async function parseTorrentFile (file: Uint8Array, source: string): Promise<TorrentMeta> {
  if (file.length > MAX_TORRENT_BYTES) throw new EzioError('badTorrent', `${source} is ${file.length} bytes, over the ${MAX_TORRENT_BYTES} a torrent may be: it is no torrent ezio made`)
  let parsed
  try {
    parsed = await parseTorrent(file)
  } catch (err) {
    throw new EzioError('badTorrent', `${source} is not a valid torrent (${(err as Error).message}): recreate it with ezio create`)
  }
  if (!parsed.info || !Array.isArray(parsed.pieces) || parsed.pieces.length === 0 || !parsed.pieceLength) {
    throw new EzioError('badTorrent', `${source} is not a BitTorrent v1 torrent with piece hashes: recreate it with ezio create`)
  }
  // Before anything is allocated for it: a piece is held whole in memory.
  const bound = badPieceSize(parsed.pieceLength) ?? tooManyPieces(parsed.length, parsed.pieceLength)
  if (bound) throw new EzioError('badTorrent', `${source} is beyond what a machine loads (${bound}): recreate it with ezio create`)
  const expectedPieces = Math.ceil(parsed.length / parsed.pieceLength)
  if (parsed.pieces.length !== expectedPieces) {
    throw new EzioError('badTorrent', `${source} lists ${parsed.pieces.length} piece hashes for ${expectedPieces} pieces: the torrent is corrupt`)
  }
  const multiFile = Array.isArray(parsed.info.files)
  const record = decodeLayoutRecord(parsed.info)
  const pieceLength = parsed.pieceLength
  const compressed = decodeCompressedMap(parsed.info, i => i === expectedPieces - 1 ? parsed.lastPieceLength : pieceLength, expectedPieces)
  return {
    file,
    infoHash: parsed.infoHash,
    name: parsed.name,
    length: parsed.length,
    pieceLength: parsed.pieceLength,
    lastPieceLength: parsed.lastPieceLength,
    pieces: parsed.pieces,
    announce: parsed.announce ?? [],
    private: !!parsed.private,
    layout: compressed ? compressedLayout(parsed.files, compressed, record, parsed.length) : plainLayout(parsed.files, multiFile, record),
    compressed,
    record,
    info: parsed.info
  }
}

function plainLayout (files: TorrentFileEntry[], multiFile: boolean, record: LayoutRecord | undefined): Layout {
  if (files.some(f => f.path.endsWith(PAYLOAD_SUFFIX))) {
    throw new EzioError('badTorrent', `the torrent holds compressed pieces (${PAYLOAD_SUFFIX}) but no ${COMPRESSED_KEY} mapping to tell where they go: the torrent is corrupt; recreate it with ezio create --compress`)
  }
  return layoutOf(files, multiFile, record)
}

function compressedLayout (files: TorrentFileEntry[], map: CompressedMap, record: LayoutRecord | undefined, length: number): Layout {
  if (files.length !== 1 || !files[0]!.path.endsWith(PAYLOAD_SUFFIX)) {
    throw new EzioError('badTorrent', `the torrent has a ${COMPRESSED_KEY} mapping but not one ${PAYLOAD_SUFFIX} file: the torrent is corrupt; recreate it with ezio create --compress`)
  }
  const runsEnd = map.runs.reduce((end, r) => Math.max(end, r.diskOffset + r.length), 0)
  return { extents: map.runs, end: record ? Math.max(runsEnd, recordMinSize(record)) : runsEnd, length }
}

export async function loadTorrent (source: string): Promise<TorrentMeta> {
  return parseTorrentFile(await readTorrentFile(source), source)
}
