package strongroom

/*
#include <stdint.h>
#include <strongroom.h>
*/
import "C"

// Policy is the process-wide protection policy, for SetDefaultPolicy.
type Policy uint32

// The policies.
const (
	// PolicyStandard requires every protection the platform has except memfd_secret, which
	// is used where the kernel has it. The default.
	PolicyStandard Policy = C.STRONGROOM_POLICY_STANDARD
	// PolicyStrict requires memfd_secret too.
	PolicyStrict Policy = C.STRONGROOM_POLICY_STRICT
	// PolicyBestEffort takes every protection available and goes on without the rest
	// (Buffer.Protections says what each buffer got). For a small RLIMIT_MEMLOCK.
	PolicyBestEffort Policy = C.STRONGROOM_POLICY_BEST_EFFORT
)

// SetDefaultPolicy sets the process-wide policy, once, before the first secret; a later
// call is ErrInvalidArgument.
func SetDefaultPolicy(p Policy) error {
	return call(func() C.strongroom_status { return C.strongroom_set_default_policy(C.uint32_t(p)) })
}

// Purge wipes every live secret in the process at once: buffers, keys, enclaves. Handles
// stay valid, and using their secrets afterwards is ErrDestroyed (Destroy still works).
// For an exit path: call it from the goroutine that receives os/signal notifications (the
// library installs no signal handler of its own).
func Purge() error {
	return call(func() C.strongroom_status { return C.strongroom_purge() })
}

// Harden makes the process not dumpable (no same-user debugger attach, no /proc/PID/mem by
// other processes of the user) and disables core files. If a step could not be applied it
// returns ErrUnsupported, with the reason in the message. It installs no signal handler.
func Harden() error {
	return call(func() C.strongroom_status { return C.strongroom_harden() })
}
