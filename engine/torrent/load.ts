import { promises as fs } from 'node:fs'
import parseTorrent from 'parse-torrent'
import { EzioError } from '../errors.ts'
import { layoutOf, type Layout } from './layout.ts'
import { decodeLayoutRecord, type LayoutRecord } from './layout-record.ts'

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
  layout: Layout
  /** Where a whole disk's partitions lie (ezio create --used-blocks); absent for raw images and upstream torrents. */
  record?: LayoutRecord
  info: Record<string, unknown>
}

/** Reads a .torrent file (one from a server is fetched by the machine's side: client/fetch.ts). */
export async function readTorrentFile (source: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(source)
  } catch (err) {
    throw new EzioError('badTorrent', `cannot read the torrent ${source}: ${(err as Error).message}`)
  }
}

export async function parseTorrentFile (file: Uint8Array, source: string): Promise<TorrentMeta> {
  let parsed
  try {
    parsed = await parseTorrent(file)
  } catch (err) {
    throw new EzioError('badTorrent', `${source} is not a valid torrent (${(err as Error).message}): recreate it with ezio create`)
  }
  if (!parsed.info || !Array.isArray(parsed.pieces) || parsed.pieces.length === 0 || !parsed.pieceLength) {
    throw new EzioError('badTorrent', `${source} is not a BitTorrent v1 torrent with piece hashes: recreate it with ezio create`)
  }
  const expectedPieces = Math.ceil(parsed.length / parsed.pieceLength)
  if (parsed.pieces.length !== expectedPieces) {
    throw new EzioError('badTorrent', `${source} lists ${parsed.pieces.length} piece hashes for ${expectedPieces} pieces: the torrent is corrupt`)
  }
  const multiFile = Array.isArray(parsed.info.files)
  const record = decodeLayoutRecord(parsed.info)
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
    layout: layoutOf(parsed.files, multiFile, record),
    record,
    info: parsed.info
  }
}

export async function loadTorrent (source: string): Promise<TorrentMeta> {
  return parseTorrentFile(await readTorrentFile(source), source)
}
