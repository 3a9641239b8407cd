// Package strongroom keeps secrets (keys, passwords, tokens) in protected memory, through
// libstrongroom's C API (cgo).
//
// A secret lives in the library's memory, never in Go's: locked in RAM (no swap), excluded
// from core dumps, hidden from forked children, backed by memfd_secret where the kernel has
// it (out of the kernel's direct map), with guard pages around the larger ones. Go holds only
// handles ([Buffer], [Enclave], [KEMKey], [SigningKey], [AEADKey]): a destroyed or stale
// handle is an error ([ErrInvalidHandle]), never a dangling pointer.
//
// # Building
//
// Install the library, then point pkg-config at it; the package links with
// "#cgo pkg-config: strongroom":
//
//	scripts/install-ffi --prefix /usr/local        # or --prefix DIR --debug
//	export PKG_CONFIG_PATH=DIR/lib/pkgconfig      # only for a prefix pkg-config does not search
//
// libstrongroom.so.0 must also be found when the program runs. Under /usr/local/lib, run
// ldconfig once; under another prefix, link with an rpath
// (CGO_LDFLAGS=-Wl,-rpath,DIR/lib, as go/run does for the tests) or set
// LD_LIBRARY_PATH=DIR/lib.
//
// # Using secrets without copying them
//
// [Buffer.With] lends the secret's bytes to a function as a []byte that points into the
// library's protected memory: nothing is copied into Go memory. The slice is valid only
// while the function runs; it must not escape (no storing it, no goroutine holding it, no
// append to it), and bytes copied out of it are ordinary Go memory the garbage collector may
// move and never wipes. [Buffer.With] lends the bytes for reading only (writing through the
// slice faults on a frozen buffer); [Buffer.WithMut] lends them for writing.
//
// Inside the function:
//   - a call on the same handle returns [ErrBusy] (the handle is held); calls on other
//     handles work;
//   - a panic is caught at the boundary and raised again once the library has let go of
//     the secret, so deferred recovers see it as usual;
//   - runtime.Goexit (t.Fatal, t.FailNow, t.Skip) is not allowed: it would unwind through
//     the library's frames, so it ends the process with a message instead; use t.Error;
//   - do not wait for another goroutine that uses the same handle: calls on a handle from
//     other goroutines wait until the function returns. For the same reason, nest With
//     calls on two buffers in one order everywhere (a inside b in one goroutine and b
//     inside a in another can deadlock).
//
// [Buffer.Read] copies bytes out when a copy is really wanted; the copy is the caller's to
// wipe. [BufferFromBytes] copies a Go slice in and wipes the slice.
//
// # Errors
//
// Every failure is an [*Error] with the library's status code and its message (from
// strongroom_last_error, read on the OS thread that made the failing call). Compare with
// errors.Is against the sentinels:
//
//	if errors.Is(err, strongroom.ErrFrozen) { ... }
//
// # Lifetime
//
// Call Destroy when a secret is no longer needed: it wipes the bytes at once. Destroying
// twice returns [ErrInvalidHandle]. An object that becomes unreachable without Destroy is
// destroyed by a finalizer, at some later garbage collection. Do not copy a Buffer (or any
// handle type) by value: pass the pointer.
//
// Every function is safe for concurrent use; calls on one handle from several goroutines
// take turns.
//
// # Signals
//
// The library installs no signal handlers, so it never conflicts with the Go runtime's. To
// wipe every secret when the process is told to stop, handle the signal in Go and call
// [Purge]:
//
//	stop := make(chan os.Signal, 1)
//	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
//	go func() {
//		<-stop
//		strongroom.Purge() // every secret wiped; handles stay, their use is ErrDestroyed
//		os.Exit(1)
//	}()
package strongroom
