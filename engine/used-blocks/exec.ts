import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import path from 'node:path'

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a tool to its end; a non-zero exit is a result, not an exception. A tool that cannot start is. */
export function run (file: string, args: string[]): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : undefined) : 0
      if (code === undefined) return reject(err)
      resolve({ code, stdout, stderr })
    })
  })
}

// sbin is not on every user's PATH, and these tools live there.
const SEARCH = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin']

/** The path of the executable NAME, or undefined when it is not installed. */
export async function findTool (name: string): Promise<string | undefined> {
  for (const dir of SEARCH) {
    const file = path.join(dir, name)
    if (await access(file, constants.X_OK).then(() => true, () => false)) return file
  }
  return undefined
}
