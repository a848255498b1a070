import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Host, Network } from './netns.ts'
import { until } from './room.ts'
import { timeClients, type TransferOptions, type TransferResult } from './transfer.ts'

/**
 * The baseline most admins use: a plain HTTP server (busybox httpd) on
 * SERVER and every machine downloading the image from it at once with curl.
 */
export async function runUnicast (net: Network, server: Host, machines: Host[], opts: TransferOptions): Promise<TransferResult> {
  const www = path.join(opts.dir, 'www')
  await fs.mkdir(www, { recursive: true })
  const served = path.join(www, 'image.raw')
  await fs.rm(served, { force: true })
  await fs.link(opts.image, served).catch(() => fs.copyFile(opts.image, served))
  const httpd = net.exec(server, 'busybox', ['httpd', '-f', '-p', `${server.ip}:8080`, '-h', www], { all: true, buffer: true })
  const url = `http://${server.ip}:8080/image.raw`
  try {
    const answers = async (): Promise<boolean> => (await net.exec(server, 'curl', ['-sfI', '--max-time', '2', url])).exitCode === 0
    await until(async () => httpd.exitCode !== null || await answers(), 30, 'busybox httpd to answer')
    if (httpd.exitCode !== null) throw new Error(`busybox httpd exited at once: ${String((await httpd).all).trim()}`)
    opts.log?.(`busybox httpd serves ${url}`)
    const timeout = String(opts.timeoutSeconds ?? 3600)
    return await timeClients(machines, (m, file) => net.exec(m, 'curl', ['-sSf', '--max-time', timeout, '-o', file, url], { all: true, buffer: true }), opts)
  } finally {
    httpd.kill('SIGTERM')
    await httpd
    await fs.rm(www, { recursive: true, force: true })
  }
}
