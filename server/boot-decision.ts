import type { Images, ServedImage } from './images.ts'
import type { CaptureMark, Machine } from './machines.ts'

/** Who may be imaged: --allow, --accept-all, or (neither) whom the operator accepts. */
export interface Admission {
  /** MACs (and names) of --allow; empty when not given. */
  allow: Set<string>
  acceptAll: boolean
}

export type Decision =
  /** Its disk holds its image, complete: it boots that, not the appliance (409 to /ezio.json). */
  | { kind: 'disk', image: ServedImage, reason: string }
  /** Not in --allow (403). */
  | { kind: 'refuse', reason: string }
  /** Not accepted yet, the deployment paused, or its image not served (503). */
  | { kind: 'wait', reason: string }
  | { kind: 'clone', image: ServedImage }
  /** Marked "capture as NAME" by the operator: its disk goes to the image store. */
  | { kind: 'capture', mark: CaptureMark }

export interface DecisionContext {
  images: Images
  admission: Admission
  paused: boolean
  /** The server as the machine reaches it, for what its screen says. */
  server: string
}

/**
 * What machine ID is to do at this boot, in one place: the boot script,
 * the GRUB config and /ezio.json all answer from it.
 */
export function decide (id: string, m: Machine | undefined, ctx: DecisionContext): Decision {
  // The operator's mark is the operator's acceptance, whatever the disk holds;
  // a pause holds clones back, not the reading of a reference disk.
  if (m?.capture) return { kind: 'capture', mark: m.capture }
  const image = m?.image ? ctx.images.byName(m.image) : ctx.images.default
  if (m && image && m.holds === image.meta.infoHash) {
    return { kind: 'disk', image, reason: `this machine (${id}) already holds ${image.name}, complete: it boots its own disk; re-image it from the dashboard to clone it again` }
  }
  const { admission } = ctx
  const admitted = admission.acceptAll || admission.allow.has(id) || !!m?.accepted
  if (!admitted && admission.allow.size > 0) {
    return { kind: 'refuse', reason: `this machine (${id}) is not in the server's --allow list: nothing was written; add it to --allow to clone it` }
  }
  if (!admitted) return { kind: 'wait', reason: `waiting for the operator to accept this machine (${id}) at ${ctx.server}` }
  if (!image && !m?.image) return { kind: 'wait', reason: `this server has no image yet: waiting until one is captured or served at ${ctx.server}` }
  if (!image) return { kind: 'wait', reason: `this machine's image ${m?.image} is not served here: waiting until the operator assigns another at ${ctx.server}` }
  if (ctx.paused) return { kind: 'wait', reason: 'the deployment is paused by the operator: waiting until it is resumed' }
  return { kind: 'clone', image }
}
