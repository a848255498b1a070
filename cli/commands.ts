import { boot } from './boot.ts'
import { capture } from './capture.ts'
import { clone } from './clone.ts'
import type { Command } from './command.ts'
import { create } from './create.ts'
import { seed } from './seed.ts'
import { serve } from './serve.ts'
import { verify } from './verify.ts'

/** Every command, in the order `ezio --help` lists them. */
export const commands: Command[] = [create, seed, clone, verify, serve, capture, boot]
