// Commands that live outside the clone path (the operator's server, the
// initramfs's boot) register here, so that cli.ts stays the client's own.
export {}
