package strongroom

/*
#include <strongroom.h>
*/
import "C"

// Error is a failure reported by the library (or an argument refused before the call).
// Code is the library's status code, one of the negative STRONGROOM_E_* values; Message says
// what went wrong, in words that never contain secret bytes or sizes.
//
// Compare errors with errors.Is against the Err* sentinels, which match any *Error with the
// same Code.
type Error struct {
	Code    int
	Message string
}

// Error returns the message, prefixed with "strongroom: ".
func (e *Error) Error() string {
	if e.Message == "" {
		return "strongroom: " + statusText(e.Code)
	}
	return "strongroom: " + e.Message
}

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrFrozen) holds for every frozen-buffer failure whatever its message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

func statusText(code int) string {
	return C.GoString(C.strongroom_strerror(C.strongroom_status(code)))
}

func sentinel(code C.int) *Error {
	return &Error{Code: int(code), Message: statusText(int(code))}
}

func argumentError(message string) error {
	return &Error{Code: C.STRONGROOM_E_INVALID_ARGUMENT, Message: message}
}

// The library's status codes, for errors.Is. Their messages are the codes' general
// descriptions (strongroom_strerror).
var (
	ErrNullPointer     = sentinel(C.STRONGROOM_E_NULL_POINTER)     // a required pointer was NULL
	ErrInvalidArgument = sentinel(C.STRONGROOM_E_INVALID_ARGUMENT) // a length, offset, flag or algorithm out of range
	ErrBufferTooSmall  = sentinel(C.STRONGROOM_E_BUFFER_TOO_SMALL) // an output buffer is too small
	ErrInvalidHandle   = sentinel(C.STRONGROOM_E_INVALID_HANDLE)   // destroyed, or never existed
	ErrWrongHandleType = sentinel(C.STRONGROOM_E_WRONG_HANDLE_TYPE)
	ErrBusy            = sentinel(C.STRONGROOM_E_BUSY)        // a callback called back into the handle it was lent
	ErrLockLimit       = sentinel(C.STRONGROOM_E_LOCK_LIMIT)  // locking would exceed RLIMIT_MEMLOCK
	ErrUnsupported     = sentinel(C.STRONGROOM_E_UNSUPPORTED) // a required protection is missing, or the operation does not apply
	ErrOutOfMemory     = sentinel(C.STRONGROOM_E_OUT_OF_MEMORY)
	ErrDestroyed       = sentinel(C.STRONGROOM_E_DESTROYED) // wiped by Purge, or lost in a forked child
	ErrFrozen          = sentinel(C.STRONGROOM_E_FROZEN)    // the buffer is read-only; Melt it first
	ErrDecrypt         = sentinel(C.STRONGROOM_E_DECRYPT)   // wrong key, or the data was altered
	ErrFormat          = sentinel(C.STRONGROOM_E_FORMAT)    // a malformed key, ciphertext or file
	ErrBadSignature    = sentinel(C.STRONGROOM_E_BAD_SIGNATURE)
	ErrLimit           = sentinel(C.STRONGROOM_E_LIMIT) // a KDF or file parameter beyond its limit
	ErrNoIdentity      = sentinel(C.STRONGROOM_E_NO_IDENTITY)
	ErrIO              = sentinel(C.STRONGROOM_E_IO)
	ErrOS              = sentinel(C.STRONGROOM_E_OS)
	ErrPanic           = sentinel(C.STRONGROOM_E_PANIC)    // a bug in the library, caught at its boundary
	ErrInternal        = sentinel(C.STRONGROOM_E_INTERNAL) // a bug in the library
	ErrTooManyHandles  = sentinel(C.STRONGROOM_E_TOO_MANY_HANDLES)
)
