import { parseArgs, type ParseArgsConfig } from 'node:util'
import { EzioError } from '../engine/errors.ts'
import { isHostPort } from '../protocol/config.ts'

export type Options = NonNullable<ParseArgsConfig['options']>

/** Thrown by parse on --help: main prints the command's help and exits 0. */
export class HelpAsked extends Error {}

/** parseArgs with ezio's errors: a bad flag names itself and points at --help. */
export function parse<T extends Options> (command: string, argv: string[], options: T) {
  const parsed = parseStrict(command, argv, options)
  if ((parsed.values as { help?: boolean }).help) throw new HelpAsked()
  return parsed
}

function parseStrict<T extends Options> (command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (err) {
    throw new EzioError('usage', `ezio ${command}: ${(err as Error).message}; see ezio ${command} --help`)
  }
}

export function positionals (command: string, got: string[], names: string[]): string[] {
  if (got.length !== names.length) {
    throw new EzioError('usage', `ezio ${command} takes ${names.join(' ')}, got ${got.length} argument${got.length === 1 ? '' : 's'}; see ezio ${command} --help`)
  }
  return got
}

export interface NumberBounds { min?: number, max?: number, integer?: boolean }

export function numberOption (command: string, name: string, value: string | undefined, fallback: number, opts: NumberBounds = {}): number {
  return checkedNumber(`ezio ${command}: --${name}`, value, fallback, opts, '')
}

/** VALUE as a number within OPTS, FALLBACK when absent; else a usage error that starts with WHAT (the option as given) and ends with HINT. */
export function checkedNumber (what: string, value: string | undefined, fallback: number, opts: NumberBounds, hint: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
    throw new EzioError('usage', `${what} ${value} is not ${opts.integer ? 'a whole number' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}${hint}`)
  }
  return n
}

export function choiceOption<C extends string> (command: string, name: string, value: string | undefined, choices: readonly C[], fallback: C): C {
  if (value === undefined) return fallback
  if (!(choices as readonly string[]).includes(value)) {
    throw new EzioError('usage', `ezio ${command}: --${name} ${value} is not one of ${choices.join(', ')}`)
  }
  return value as C
}

/** --peer HOST:PORT, checked now (as a config's peers are) rather than failing quietly in the swarm. */
export function peerOption (command: string, values: string[] | undefined): string[] {
  return (values ?? []).map(p => {
    if (!isHostPort(p)) throw new EzioError('usage', `ezio ${command}: --peer ${p} is not HOST:PORT`)
    return p
  })
}
