/* A stand-in bcryptprimitives.dll for Wine 8.0, which lacks it (Wine 9 has one).
 *
 * Rust's standard library (and getrandom) import ProcessPrng from bcryptprimitives.dll;
 * without the DLL a Rust binary does not start under Wine 8. This exports ProcessPrng and
 * fills the buffer from advapi32's SystemFunction036 (RtlGenRandom), which Wine implements
 * over the host's CSPRNG. For running tests under Wine only (scripts/cross-test): never ship it.
 *
 * Built by scripts/cross-test:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c \
 *     bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Same contract as the real one: fills `len` bytes and returns TRUE. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
