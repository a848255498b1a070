import { promises as fs } from 'node:fs'

export type Record = { [column: string]: string }

/** The records of a CSV file with a header line; none when the file is missing. */
export async function readCsv (file: string): Promise<{ header: string[], records: Record[] }> {
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { header: [], records: [] }
    throw err
  }
  const lines = text.split('\n').filter(l => l.trim() !== '')
  const header = lines.length ? splitLine(lines[0]!) : []
  // A line cut short by an interruption has fewer fields: it is dropped.
  const records = lines.slice(1).map(splitLine).filter(f => f.length === header.length)
    .map(f => Object.fromEntries(header.map((h, i) => [h, f[i]!])))
  return { header, records }
}

export async function writeCsv (file: string, header: string[], records: Record[]): Promise<void> {
  await fs.writeFile(file, [header, ...records.map(r => header.map(h => r[h] ?? ''))].map(joinLine).join('\n') + '\n')
}

export async function appendCsv (file: string, header: string[], records: Record[]): Promise<void> {
  await fs.appendFile(file, records.map(r => joinLine(header.map(h => r[h] ?? ''))).join('\n') + '\n')
}

function joinLine (fields: string[]): string {
  return fields.map(f => /[",\n]/.test(f) ? `"${f.replace(/"/g, '""').replace(/\n/g, ' ')}"` : f).join(',')
}

function splitLine (line: string): string[] {
  const out: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++ } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') { out.push(field); field = '' } else field += c
  }
  out.push(field)
  return out
}
