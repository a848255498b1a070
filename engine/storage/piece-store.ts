import type { FileHandle } from 'node:fs/promises'
import { diskExtents } from '../torrent/layout.ts'
import type { TorrentMeta } from '../torrent/load.ts'
import { CompressedStore, type CompressedStoreOptions } from './compressed-store.ts'
import { DiskStore, type DiskStoreOptions, type Flusher } from './disk-store.ts'

export type PieceStore = DiskStore | CompressedStore

/** The chunk store webtorrent is to make for a torrent, and a second one of the same kind for ezio's own reads. */
export interface StoreChoice {
  store: typeof DiskStore | typeof CompressedStore
  storeOpts: DiskStoreOptions | CompressedStoreOptions
  open: () => PieceStore
}

/**
 * The chunk store for META's pieces on DISK: the disk's bytes where the
 * layout puts them, decompressed and re-made for a compressed torrent; or,
 * with PAYLOAD, DISK is the torrent's payload itself (a compressed image's
 * pieces as made, cached by ezio serve), read as one file.
 */
export function pieceStore (meta: TorrentMeta, disk: FileHandle, extra: { flusher?: Flusher, beforeWrite?: (index: number) => Promise<void>, payload?: boolean } = {}): StoreChoice {
  const { flusher, beforeWrite } = extra
  if (meta.compressed && !extra.payload) {
    const storeOpts: CompressedStoreOptions = { disk, map: meta.compressed, pieceHashes: meta.pieces, length: meta.length, flusher, beforeWrite }
    return { store: CompressedStore, storeOpts, open: () => new CompressedStore(meta.pieceLength, storeOpts) }
  }
  const extents = extra.payload ? [{ torrentOffset: 0, diskOffset: 0, length: meta.length }] : diskExtents(meta.layout)
  const storeOpts: DiskStoreOptions = { disk, extents, length: meta.length, flusher, beforeWrite }
  return { store: DiskStore, storeOpts, open: () => new DiskStore(meta.pieceLength, storeOpts) }
}
