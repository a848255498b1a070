import type { Admission } from './boot-decision.ts'
import type { Captures } from './captures.ts'
import type { Deployment } from './config.ts'
import type { History } from './history.ts'
import type { ImageStore } from './image-store.ts'
import type { Images } from './images.ts'
import type { Machines } from './machines.ts'
import type { RoomEvents } from './room-events.ts'
import type { Throughput } from './throughput.ts'
import type { SigningKey } from './signing-key.ts'
import type { RoomTracker } from './tracker.ts'
import type { WakeSent } from './wake.ts'

/** What the HTTP routes work with: the parts of one running `ezio serve`. */
export interface App {
  deployment: Deployment
  images: Images
  /** Where captures land (--images). */
  store: ImageStore
  captures: Captures
  /** A capture just stored: listed, seeded and tracked (the one of the same name it replaces seeded on). */
  addImage: (name: string, torrent: Uint8Array) => Promise<void>
  tracker: RoomTracker
  machines: Machines
  /** One row per clone, in STATE/history.csv. */
  history: History
  /** The dashboards' event stream. */
  events: RoomEvents
  throughput: Throughput
  port: number
  advertise?: string
  netbootDir: string
  operatorToken: string
  /** Signs every config; its public half, as a cpio archive, follows the initrd (served-initrd.ts). */
  signingKey: SigningKey
  keyArchive: Buffer
  admission: Admission
  paused: boolean
  /** Extra kernel arguments for boot.ipxe (ezio.countdown=…). */
  bootArgs: string
  /** Where BIOS machines whose ROM is iPXE get undionly.kpxe (--pxe: this server's TFTP). */
  undiTftp?: string
  seederStats: () => { uploaded: number, upRate: number, peers: number }
  /** Wake-on-LAN for machine ID, on the segment it was last seen on. */
  wake: (id: string) => Promise<WakeSent>
}
