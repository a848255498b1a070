import { execa } from 'execa'
import net from 'node:net'
import path from 'node:path'

/**
 * QEMU's human monitor on a unix socket: what a person at the PC sees
 * (screendump) and types (sendkey).
 */
export class Monitor {
  private out = ''
  private constructor (private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => { this.out += chunk.toString('latin1') })
  }

  /** Connects once QEMU listens at PATH. */
  static async connect (file: string, timeoutMs = 30_000): Promise<Monitor> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.createConnection(file, () => resolve(s))
          s.once('error', reject)
        })
        const m = new Monitor(socket)
        await m.prompt(1)
        return m
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise(resolve => setTimeout(resolve, 200))
      }
    }
  }

  /** Runs CMD and waits for the monitor's next prompt. */
  async command (cmd: string): Promise<void> {
    const before = count(this.out)
    this.socket.write(cmd + '\n')
    await this.prompt(before + 1)
  }

  close (): void {
    this.socket.destroy()
  }

  private async prompt (n: number): Promise<void> {
    const deadline = Date.now() + 20_000
    while (count(this.out) < n) {
      if (Date.now() > deadline) throw new Error(`the QEMU monitor did not answer: ${this.out.slice(-200)}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }
}

function count (text: string): number {
  return text.split('(qemu) ').length - 1
}

/**
 * The screen as text: a screendump, enlarged (the VGA font is small for
 * OCR), read by tesseract. Debian's convert: a stand-in may come first on PATH.
 * Keeps the picture as PNG at KEEP when given.
 */
export async function readScreen (monitor: Monitor, dir: string, keep?: string): Promise<string> {
  const ppm = path.join(dir, 'screen.ppm')
  const png = keep ?? path.join(dir, 'screen.png')
  await monitor.command(`screendump ${ppm}`)
  await execa('/usr/bin/convert', [ppm, '-resize', '200%', png])
  const { stdout } = await execa('tesseract', [png, '-'], { reject: false })
  return String(stdout)
}
