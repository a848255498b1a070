import type { ByteRange } from '../disk/partition-table.ts'

/** RANGES sorted, with overlapping and touching ones merged. */
export function union (ranges: ByteRange[]): ByteRange[] {
  const out: ByteRange[] = []
  for (const r of [...ranges].filter(r => r.length > 0).sort((a, b) => a.offset - b.offset)) {
    const prev = out[out.length - 1]
    if (prev && r.offset <= prev.offset + prev.length) {
      prev.length = Math.max(prev.length, r.offset + r.length - prev.offset)
    } else {
      out.push({ ...r })
    }
  }
  return out
}

/** The bytes of RANGES that lie in none of HOLES. */
export function subtract (ranges: ByteRange[], holes: ByteRange[]): ByteRange[] {
  const cut = union(holes)
  const out: ByteRange[] = []
  for (const r of union(ranges)) {
    let at = r.offset
    const end = r.offset + r.length
    for (const h of cut) {
      const hEnd = h.offset + h.length
      if (hEnd <= at || h.offset >= end) continue
      if (h.offset > at) out.push({ offset: at, length: h.offset - at })
      at = Math.max(at, hEnd)
    }
    if (at < end) out.push({ offset: at, length: end - at })
  }
  return out
}

export function total (ranges: ByteRange[]): number {
  return ranges.reduce((sum, r) => sum + r.length, 0)
}
