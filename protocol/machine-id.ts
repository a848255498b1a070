// A machine is named by its MAC address (a lab PC) or by any short name
// (namespace machines, scripts): what ezio boot --id says, what /ezio.json?mac=
// and the reports carry, what the operator's actions name.
const ID = /^[A-Za-z0-9._:-]{1,64}$/
const MAC = /^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i

export const machineIdRule = 'letters, digits, ".", "_", ":" and "-", at most 64'

/** ID in its one spelling (a MAC lower-case with colons), or undefined when it is no machine id. */
export function machineIdOf (raw: string): string | undefined {
  if (!ID.test(raw)) return undefined
  return MAC.test(raw) ? raw.toLowerCase().replaceAll('-', ':') : raw
}

/** The 6 bytes of a MAC address id, or undefined when the id is a name. */
export function macBytes (id: string): Buffer | undefined {
  return MAC.test(id) ? Buffer.from(id.replace(/[:-]/g, ''), 'hex') : undefined
}
