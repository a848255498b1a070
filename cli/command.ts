/** One `ezio COMMAND`: its line in `ezio --help`, its --help text, and what it runs. */
export interface Command {
  name: string
  summary: string
  help: string
  /** Resolves to the exit code; a failure throws an EzioError. */
  run: (argv: string[]) => Promise<number>
}
