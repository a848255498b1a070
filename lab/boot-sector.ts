/** What the sample disk's boot sector prints, on the screen and on COM1, when a machine boots it. */
export const BOOTED_FROM_DISK = 'ezio sample disk: booted from disk'

/**
 * A BIOS boot sector's code (at most 446 bytes, before the partition
 * entries) that prints BOOTED_FROM_DISK through the BIOS (int 10h, the
 * screen) and to the first serial port (out 3f8h), then halts. Real mode,
 * loaded at 0000:7c00. No assembler needed for 30 bytes:
 *
 *   0  31 c0        xor ax, ax
 *   2  8e d8        mov ds, ax
 *   4  be 1e 7c     mov si, msg        ; 7c00h + 30
 *   7  fc           cld
 *   8  ac           next: lodsb
 *   9  84 c0        test al, al
 *  11  74 0d        jz done            ; to 26
 *  13  ba f8 03     mov dx, 3f8h
 *  16  ee           out dx, al
 *  17  b4 0e        mov ah, 0eh        ; teletype output
 *  19  bb 07 00     mov bx, 0007h
 *  22  cd 10        int 10h
 *  24  eb ee        jmp next           ; to 8
 *  26  fa           done: cli
 *  27  f4           hlt
 *  28  eb fc        jmp done           ; to 26
 *  30  msg: the line, CR LF, NUL
 */
export function bootSectorCode (): Buffer {
  const code = Buffer.from([
    0x31, 0xc0, 0x8e, 0xd8, 0xbe, 0x1e, 0x7c, 0xfc,
    0xac, 0x84, 0xc0, 0x74, 0x0d, 0xba, 0xf8, 0x03, 0xee,
    0xb4, 0x0e, 0xbb, 0x07, 0x00, 0xcd, 0x10, 0xeb, 0xee,
    0xfa, 0xf4, 0xeb, 0xfc
  ])
  return Buffer.concat([code, Buffer.from(`${BOOTED_FROM_DISK}\r\n\0`, 'latin1')])
}
