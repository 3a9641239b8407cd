package strongroom

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// Some tests need a process of their own (Purge wipes every secret; a Goexit inside a
// callback ends the process): they run this test binary again with helperEnv set.
const helperEnv = "STRONGROOM_GO_TEST_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(helperEnv); name != "" {
		helpers[name]()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var helpers = map[string]func(){
	"purge": func() {
		b := must(BufferFromBytes([]byte("purge me")))
		fail := func(format string, args ...interface{}) {
			fmt.Printf("FAIL: "+format+"\n", args...)
			os.Exit(1)
		}
		if err := Purge(); err != nil {
			fail("Purge: %v", err)
		}
		if err := b.Read(0, make([]byte, 8)); !errors.Is(err, ErrDestroyed) {
			fail("Read after Purge: %v, want ErrDestroyed", err)
		}
		if err := b.With(func([]byte) { fail("With ran after Purge") }); !errors.Is(err, ErrDestroyed) {
			fail("With after Purge: %v, want ErrDestroyed", err)
		}
		if err := b.Destroy(); err != nil {
			fail("Destroy after Purge: %v", err)
		}
		if err := Harden(); err != nil && !errors.Is(err, ErrUnsupported) {
			fail("Harden: %v", err)
		}
		fmt.Println("purge helper: ok")
	},
	"goexit": func() {
		b := must(NewBuffer(8))
		_ = b.With(func([]byte) { runtime.Goexit() })
		fmt.Println("not reached")
	},
}

func runHelper(t *testing.T, name string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func expect(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func ok(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestVersionAndErrors(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+`).MatchString(Version()) {
		t.Errorf("Version() = %q", Version())
	}
	if !strings.Contains(ErrFrozen.Error(), "frozen") {
		t.Errorf("ErrFrozen.Error() = %q", ErrFrozen.Error())
	}
	err := error(&Error{Code: ErrFrozen.Code, Message: "a particular message"})
	if !errors.Is(err, ErrFrozen) || errors.Is(err, ErrBusy) {
		t.Error("errors.Is must compare codes")
	}
	if err.Error() != "strongroom: a particular message" {
		t.Errorf("Error() = %q", err.Error())
	}
	wrapped := fmt.Errorf("context: %w", err)
	var e *Error
	if !errors.As(wrapped, &e) || e.Code != -11 || !errors.Is(wrapped, ErrFrozen) {
		t.Errorf("errors.As through a wrap: %v", e)
	}
	all := []*Error{ErrNullPointer, ErrInvalidArgument, ErrBufferTooSmall, ErrInvalidHandle, ErrWrongHandleType,
		ErrBusy, ErrLockLimit, ErrUnsupported, ErrOutOfMemory, ErrDestroyed, ErrFrozen, ErrDecrypt, ErrFormat,
		ErrBadSignature, ErrLimit, ErrNoIdentity, ErrIO, ErrOS, ErrPanic, ErrInternal, ErrTooManyHandles}
	for i, s := range all {
		if s.Code != -(i+1) || s.Message == "" || strings.Contains(s.Message, "unknown status code") {
			t.Errorf("sentinel %d: %+v", i, s)
		}
	}
	expect(t, SetDefaultPolicy(Policy(7)), ErrInvalidArgument, "SetDefaultPolicy(7)")
}

func TestBufferRoundTrip(t *testing.T) {
	b := must(NewBuffer(48))
	defer b.Destroy()
	if n, err := b.Len(); err != nil || n != 48 {
		t.Fatalf("Len = %d, %v", n, err)
	}
	out := make([]byte, 48)
	ok(t, b.Read(0, out), "Read")
	if !bytes.Equal(out, make([]byte, 48)) {
		t.Error("a new buffer is not zero")
	}
	ok(t, b.Write(40, []byte("12345678")), "Write")
	ok(t, b.Read(40, out[:8]), "Read")
	if string(out[:8]) != "12345678" {
		t.Errorf("Read back %q", out[:8])
	}

	ok(t, b.WithMut(func(p []byte) {
		for i := range p {
			p[i] = "ab"[i%2]
		}
	}), "WithMut")
	want := bytes.Repeat([]byte("ab"), 24)
	ran := false
	ok(t, b.With(func(p []byte) {
		ran = true
		if !bytes.Equal(p, want) {
			t.Error("With does not see what WithMut wrote")
		}
	}), "With")
	if !ran {
		t.Error("With did not run its function")
	}
	if eq, err := b.EqualConstantTime(want); err != nil || !eq {
		t.Errorf("EqualConstantTime(same) = %v, %v", eq, err)
	}
	if eq, err := b.EqualConstantTime(want[:47]); err != nil || eq {
		t.Errorf("EqualConstantTime(shorter) = %v, %v", eq, err)
	}
	other := append([]byte(nil), want...)
	other[47] ^= 1
	if eq, err := b.EqualConstantTime(other); err != nil || eq {
		t.Errorf("EqualConstantTime(different) = %v, %v", eq, err)
	}

	p := must(b.Protections())
	for _, bit := range []Protections{ProtectionLocked, ProtectionDumpExcluded, ProtectionForkSafe, ProtectionCanary} {
		if !p.Has(bit) {
			t.Errorf("Protections() = %v, lacks %v", p, bit)
		}
	}
	if p.Has(ProtectionFrozen) || p.Has(ProtectionGuardPages) {
		t.Errorf("a pooled buffer: Protections() = %v", p)
	}
	t.Logf("pooled buffer protections: %v", p)
}

func TestBufferFromBytesAndRandom(t *testing.T) {
	src := []byte("hunter2")
	b := must(BufferFromBytes(src))
	defer b.Destroy()
	if !bytes.Equal(src, make([]byte, 7)) {
		t.Errorf("the source was not wiped: %q", src)
	}
	if eq, _ := b.EqualConstantTime([]byte("hunter2")); !eq {
		t.Error("BufferFromBytes did not copy the bytes")
	}
	r := must(RandomBuffer(4096))
	defer r.Destroy()
	if eq, _ := r.EqualConstantTime(make([]byte, 4096)); eq {
		t.Error("RandomBuffer gave zeros")
	}
	if !must(r.Protections()).Has(ProtectionGuardPages) {
		t.Error("a 4 KiB buffer should have a guarded region")
	}
	empty := must(NewBuffer(0))
	ok(t, empty.Read(0, nil), "Read(0, nil) on an empty buffer")
	ok(t, empty.With(func(p []byte) {
		if p == nil || len(p) != 0 {
			t.Errorf("empty buffer: With gave %v", p)
		}
	}), "With on an empty buffer")
	ok(t, empty.WithMut(func(p []byte) {}), "WithMut on an empty buffer")
	ok(t, empty.Destroy(), "Destroy")
	e := must(BufferFromBytes(nil))
	if n, _ := e.Len(); n != 0 {
		t.Errorf("BufferFromBytes(nil).Len() = %d", n)
	}
	ok(t, e.Destroy(), "Destroy")
}

// The slice With lends is the library's memory, not a copy: writes through WithMut are seen
// by Read, writes through Write are seen by With, and (with memfd_secret) the slice's address
// lies in a secretmem mapping, outside every Go allocation.
func TestWithLendsLibraryMemory(t *testing.T) {
	for _, newBuf := range []func(int) (*Buffer, error){NewBuffer, NewGuardedBuffer} {
		b := must(newBuf(32))
		var first, second uintptr
		ok(t, b.WithMut(func(p []byte) {
			first = uintptr(unsafe.Pointer(&p[0]))
			copy(p[3:], "written in place")
		}), "WithMut")
		got := make([]byte, 32)
		ok(t, b.Read(0, got), "Read")
		if string(got[3:19]) != "written in place" {
			t.Errorf("Read after WithMut: %q", got)
		}
		ok(t, b.Write(0, []byte("xyz")), "Write")
		ok(t, b.With(func(p []byte) {
			second = uintptr(unsafe.Pointer(&p[0]))
			if string(p[:3]) != "xyz" {
				t.Errorf("With after Write: %q", p[:3])
			}
		}), "With")
		if first != second {
			t.Errorf("the lent bytes moved: %#x, then %#x", first, second)
		}
		mapping := mappingOf(t, first)
		if must(b.Protections()).Has(ProtectionSecretMemory) && !strings.Contains(mapping, "secretmem") {
			t.Errorf("the lent slice at %#x is not in a secretmem mapping: %q", first, mapping)
		}
		t.Logf("lent at %#x, in %q", first, mapping)
		ok(t, b.Destroy(), "Destroy")
	}
}

// mappingOf returns the /proc/self/maps line whose range holds addr.
func mappingOf(t *testing.T, addr uintptr) string {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		lo, hi, found := strings.Cut(fields[0], "-")
		if !found {
			continue
		}
		l, _ := strconv.ParseUint(lo, 16, 64)
		h, _ := strconv.ParseUint(hi, 16, 64)
		if uint64(addr) >= l && uint64(addr) < h {
			return s.Text()
		}
	}
	t.Errorf("%#x is in no mapping", addr)
	return ""
}

func TestFreeze(t *testing.T) {
	b := must(NewGuardedBuffer(32))
	defer b.Destroy()
	if !must(b.Protections()).Has(ProtectionGuardPages) {
		t.Error("a guarded buffer has no guard pages")
	}
	ok(t, b.Write(0, []byte("frozen secret")), "Write")
	ok(t, b.Freeze(), "Freeze")
	if !must(b.Protections()).Has(ProtectionFrozen) {
		t.Error("Protections() lacks frozen after Freeze")
	}
	ran := false
	err := b.WithMut(func([]byte) { ran = true })
	expect(t, err, ErrFrozen, "WithMut on a frozen buffer")
	if ran {
		t.Error("WithMut ran its function on a frozen buffer")
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != -11 || e.Message == "" {
		t.Errorf("the error: %#v", e)
	}
	expect(t, b.Write(0, []byte("x")), ErrFrozen, "Write on a frozen buffer")
	ok(t, b.With(func(p []byte) {
		if string(p[:13]) != "frozen secret" {
			t.Errorf("With on a frozen buffer: %q", p[:13])
		}
	}), "With on a frozen buffer")
	ok(t, b.Melt(), "Melt")
	ok(t, b.WithMut(func(p []byte) { p[0] = 'F' }), "WithMut after Melt")

	pooled := must(NewBuffer(32))
	defer pooled.Destroy()
	err = pooled.Freeze()
	expect(t, err, ErrUnsupported, "Freeze on a pooled buffer")
	if err == nil || !strings.Contains(err.Error(), "STRONGROOM_BUFFER_GUARDED") {
		t.Errorf("the message should say how to get a guarded buffer: %v", err)
	}
}

func TestEnclave(t *testing.T) {
	const text = "correct horse battery staple"
	b := must(BufferFromBytes([]byte(text)))
	e, err := Seal(b)
	ok(t, err, "Seal")
	_, err = b.Len()
	expect(t, err, ErrInvalidHandle, "the sealed buffer")
	if n, err := e.Len(); err != nil || n != len(text) {
		t.Errorf("Enclave.Len = %d, %v", n, err)
	}
	same := false
	ok(t, e.With(func(p []byte) { same = bytes.Equal(p, []byte(text)) }), "Enclave.With")
	if !same {
		t.Error("Enclave.With lent other bytes")
	}
	opened, err := e.Open()
	ok(t, err, "Open")
	if !must(opened.Protections()).Has(ProtectionFrozen) {
		t.Error("an opened enclave should be frozen")
	}
	if eq, _ := opened.EqualConstantTime([]byte(text)); !eq {
		t.Error("Open gave other bytes")
	}
	ok(t, opened.Destroy(), "Destroy")

	// A frozen buffer can be sealed too.
	g := must(NewGuardedBuffer(4))
	ok(t, g.Freeze(), "Freeze")
	e2, err := Seal(g)
	ok(t, err, "Seal a frozen buffer")
	ok(t, e2.Destroy(), "Destroy")

	// A handle of one kind presented as another.
	_, err = (&Buffer{id: e.id}).Len()
	expect(t, err, ErrWrongHandleType, "an enclave's handle used as a buffer's")

	ok(t, e.Destroy(), "Destroy")
	expect(t, e.Destroy(), ErrInvalidHandle, "Destroy twice")
	_, err = e.Open()
	expect(t, err, ErrInvalidHandle, "Open after Destroy")
	expect(t, e.With(func([]byte) { t.Error("ran") }), ErrInvalidHandle, "With after Destroy")
	_, err = Seal(b)
	expect(t, err, ErrInvalidHandle, "Seal a consumed buffer")
}

func TestBadInputs(t *testing.T) {
	b := must(NewBuffer(16))
	out := make([]byte, 16)
	expect(t, b.Read(0, make([]byte, 17)), ErrInvalidArgument, "Read past the end")
	expect(t, b.Read(16, out[:1]), ErrInvalidArgument, "Read at the end")
	expect(t, b.Read(-1, out[:1]), ErrInvalidArgument, "Read at a negative offset")
	expect(t, b.Write(15, []byte("ab")), ErrInvalidArgument, "Write past the end")
	expect(t, b.Write(-1, nil), ErrInvalidArgument, "Write at a negative offset")
	_, err := NewBuffer(-1)
	expect(t, err, ErrInvalidArgument, "NewBuffer(-1)")
	_, err = NewBuffer(1 << 46)
	expect(t, err, ErrOutOfMemory, "NewBuffer(64 TiB)")
	expect(t, b.With(nil), ErrNullPointer, "With(nil)")

	err = b.Read(0, make([]byte, 17))
	if !strings.Contains(err.Error(), "past the end") {
		t.Errorf("the message should come from strongroom_last_error: %v", err)
	}

	ok(t, b.Destroy(), "Destroy")
	err = b.Destroy()
	if err == nil {
		t.Fatal("a second Destroy returned nil")
	}
	expect(t, err, ErrInvalidHandle, "Destroy twice")
	_, err = b.Len()
	expect(t, err, ErrInvalidHandle, "Len after Destroy")
	expect(t, b.Read(0, out), ErrInvalidHandle, "Read after Destroy")
	expect(t, b.Write(0, out), ErrInvalidHandle, "Write after Destroy")
	expect(t, b.With(func([]byte) { t.Error("With ran after Destroy") }), ErrInvalidHandle, "With after Destroy")
	expect(t, b.WithMut(func([]byte) { t.Error("WithMut ran after Destroy") }), ErrInvalidHandle, "WithMut after Destroy")
	expect(t, b.Freeze(), ErrInvalidHandle, "Freeze after Destroy")
	_, err = b.EqualConstantTime(out)
	expect(t, err, ErrInvalidHandle, "EqualConstantTime after Destroy")
	_, err = b.Protections()
	expect(t, err, ErrInvalidHandle, "Protections after Destroy")

	var nilBuffer *Buffer
	_, err = nilBuffer.Len()
	expect(t, err, ErrInvalidHandle, "a nil *Buffer")
	expect(t, nilBuffer.Destroy(), ErrInvalidHandle, "Destroy a nil *Buffer")
	_, err = (&Buffer{}).Len()
	expect(t, err, ErrInvalidHandle, "a zero Buffer")
	_, err = (&Buffer{id: ^uint64(0)}).Len()
	expect(t, err, ErrInvalidHandle, "a forged handle")
	var nilEnclave *Enclave
	expect(t, nilEnclave.Destroy(), ErrInvalidHandle, "Destroy a nil *Enclave")
}

// A callback that calls back into the buffer it was lent gets ErrBusy, not a deadlock;
// other buffers work from inside it.
func TestCallbackReentryIsBusy(t *testing.T) {
	b := must(BufferFromBytes([]byte("outer")))
	other := must(BufferFromBytes([]byte("other")))
	ran := false
	ok(t, b.With(func(p []byte) {
		ran = true
		_, err := b.Len()
		expect(t, err, ErrBusy, "Len from inside With")
		expect(t, b.Destroy(), ErrBusy, "Destroy from inside With")
		expect(t, b.WithMut(func([]byte) { t.Error("nested WithMut ran") }), ErrBusy, "WithMut from inside With")
		if n, err := other.Len(); err != nil || n != 5 {
			t.Errorf("another buffer from inside With: %d, %v", n, err)
		}
		ok(t, other.With(func(q []byte) {
			if string(q) != "other" || string(p) != "outer" {
				t.Errorf("nested lends: %q, %q", p, q)
			}
		}), "With on another buffer from inside With")
	}), "With")
	if !ran {
		t.Fatal("With did not run")
	}
	ok(t, b.WithMut(func([]byte) {
		expect(t, b.Write(0, []byte("x")), ErrBusy, "Write from inside WithMut")
	}), "WithMut")
	ok(t, b.Destroy(), "Destroy after the callbacks")
	ok(t, other.Destroy(), "Destroy")
}

// A panic inside a callback does not unwind through the library: With raises it again
// after the library has let go, and the buffer stays usable.
func TestPanicInCallback(t *testing.T) {
	b := must(NewBuffer(8))
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want boom", r)
			}
		}()
		_ = b.With(func([]byte) { panic("boom") })
		t.Error("With returned after its function panicked")
	}()
	ok(t, b.WithMut(func(p []byte) { p[0] = 1 }), "WithMut after a panic")
	ok(t, b.Destroy(), "Destroy after a panic")
}

func TestGoexitInCallbackEndsTheProcess(t *testing.T) {
	out, err := runHelper(t, "goexit")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		t.Errorf("the helper: %v, want exit status 2\n%s", err, out)
	}
	if !strings.Contains(out, "runtime.Goexit") || strings.Contains(out, "not reached") {
		t.Errorf("the helper's output:\n%s", out)
	}
}

func TestPurge(t *testing.T) {
	out, err := runHelper(t, "purge")
	if err != nil || !strings.Contains(out, "purge helper: ok") {
		t.Errorf("the helper: %v\n%s", err, out)
	}
}

// Many goroutines at once: private buffers churned in each, one shared buffer lent to all,
// failing calls whose messages must be their own (strongroom_last_error is per thread, and
// goroutines move between threads), and a race to destroy the same buffers (exactly one
// goroutine wins each).
func TestConcurrentUse(t *testing.T) {
	const goroutines, rounds, races = 8, 300, 100
	shared := must(BufferFromBytes(bytes.Repeat([]byte{0x5a}, 32)))
	defer shared.Destroy()
	contested := make([]*Buffer, races)
	for i := range contested {
		contested[i] = must(RandomBuffer(16))
	}
	wins := make([]int, races)
	var mu sync.Mutex
	var wg, ready sync.WaitGroup
	start := make(chan struct{})
	wg.Add(goroutines)
	ready.Add(goroutines)
	for g := 0; g < goroutines; g++ {
		go func(g int) {
			defer wg.Done()
			data := make([]byte, 64)
			back := make([]byte, 64)
			for r := 0; r < rounds; r++ {
				for i := range data {
					data[i] = byte(g*31 + r + i)
				}
				newBuf := NewBuffer
				if r%16 == 0 {
					newBuf = NewGuardedBuffer
				}
				mine, err := newBuf(len(data))
				if err != nil {
					t.Error(err)
					return
				}
				if err := mine.Write(0, data); err != nil {
					t.Error(err)
				}
				if err := mine.Read(0, back); err != nil || !bytes.Equal(data, back) {
					t.Errorf("goroutine %d: read back %v", g, err)
				}
				good := false
				if err := shared.With(func(p []byte) { good = len(p) == 32 && p[0] == 0x5a && p[31] == 0x5a }); err != nil || !good {
					t.Errorf("goroutine %d: shared With: %v, %v", g, good, err)
				}
				// Two different failures in a row: each message must match its own code.
				err = mine.Read(60, back[:8])
				if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "past the end") {
					t.Errorf("goroutine %d: Read past the end: %v", g, err)
				}
				if err := mine.Destroy(); err != nil {
					t.Error(err)
				}
				err = mine.Destroy()
				if !errors.Is(err, ErrInvalidHandle) || !strings.Contains(err.Error(), "destroyed") {
					t.Errorf("goroutine %d: Destroy twice: %v", g, err)
				}
				if r%50 == 0 {
					runtime.Gosched()
				}
			}
			ready.Done()
			<-start
			for i := 0; i < races; i++ {
				k := (i + g) % races
				err := contested[k].Destroy()
				switch {
				case err == nil:
					mu.Lock()
					wins[k]++
					mu.Unlock()
				case !errors.Is(err, ErrInvalidHandle):
					t.Errorf("racing Destroy: %v", err)
				}
			}
		}(g)
	}
	ready.Wait()
	close(start)
	wg.Wait()
	for i, w := range wins {
		if w != 1 {
			t.Errorf("contested buffer %d destroyed %d times", i, w)
		}
	}
}

// Goroutines take turns on one buffer: one holds it in WithMut while others wait, and no
// write is lost.
func TestConcurrentWithMutTakesTurns(t *testing.T) {
	b := must(NewBuffer(8))
	defer b.Destroy()
	const goroutines, rounds = 8, 200
	var wg sync.WaitGroup
	wg.Add(goroutines)
	for g := 0; g < goroutines; g++ {
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				if err := b.WithMut(func(p []byte) {
					n := uint64(0)
					for i := 7; i >= 0; i-- {
						n = n<<8 | uint64(p[i])
					}
					n++
					for i := 0; i < 8; i++ {
						p[i] = byte(n >> (8 * i))
					}
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := make([]byte, 8)
	ok(t, b.Read(0, got), "Read")
	n := uint64(0)
	for i := 7; i >= 0; i-- {
		n = n<<8 | uint64(got[i])
	}
	if n != goroutines*rounds {
		t.Errorf("counter = %d, want %d", n, goroutines*rounds)
	}
}

func TestKDFAndAEAD(t *testing.T) {
	pass := must(BufferFromBytes([]byte("hunter2")))
	defer pass.Destroy()
	salt := []byte("sixteen byte sal")
	if d := DefaultKDFParams(); d.MemoryKiB != 65536 || d.Iterations != 3 || d.Rounds != 1000 {
		t.Errorf("DefaultKDFParams() = %+v", d)
	}
	cheap := &KDFParams{MemoryKiB: 1024, Iterations: 1, Rounds: 10}
	key, err := DeriveKey(pass, salt, cheap)
	ok(t, err, "DeriveKey")
	defer key.Destroy()
	if n, _ := key.Len(); n != AEADKeySize {
		t.Errorf("derived key length %d", n)
	}
	again := must(DeriveKey(pass, salt, cheap))
	same := false
	ok(t, key.With(func(a []byte) {
		ok(t, again.With(func(b []byte) { same = bytes.Equal(a, b) }), "With")
	}), "With")
	if !same {
		t.Error("the KDF is not deterministic")
	}
	ok(t, again.Destroy(), "Destroy")
	_, err = DeriveKey(pass, salt, &KDFParams{MemoryKiB: 4 << 20, Iterations: 1, Rounds: 10})
	expect(t, err, ErrLimit, "DeriveKey with 4 GiB")
	_, err = DeriveKey(pass, salt[:4], cheap)
	expect(t, err, ErrLimit, "DeriveKey with a 4-byte salt")

	k, err := AEADKeyFromBuffer(key)
	ok(t, err, "AEADKeyFromBuffer")
	defer k.Destroy()
	_, err = AEADKeyFromBuffer(pass)
	expect(t, err, ErrInvalidArgument, "AEADKeyFromBuffer with 7 bytes")
	plain := must(BufferFromBytes([]byte("attack at dawn")))
	defer plain.Destroy()
	sealed, err := k.Seal(plain, []byte("aad"))
	ok(t, err, "Seal")
	if len(sealed) != 14+AEADOverhead {
		t.Errorf("sealed length %d", len(sealed))
	}
	opened, err := k.Open(sealed, []byte("aad"))
	ok(t, err, "Open")
	if eq, _ := opened.EqualConstantTime([]byte("attack at dawn")); !eq {
		t.Error("Open gave other bytes")
	}
	ok(t, opened.Destroy(), "Destroy")
	_, err = k.Open(sealed, []byte("aaX"))
	expect(t, err, ErrDecrypt, "Open with other aad")
	sealed[30] ^= 1
	_, err = k.Open(sealed, []byte("aad"))
	expect(t, err, ErrDecrypt, "Open a tampered ciphertext")
	_, err = k.Open(sealed[:39], nil)
	expect(t, err, ErrFormat, "Open 39 bytes")

	r := must(NewAEADKey())
	ok(t, r.Destroy(), "Destroy")
	expect(t, r.Destroy(), ErrInvalidHandle, "Destroy twice")
}

func TestProtectionsString(t *testing.T) {
	cases := map[Protections]string{
		0:                                   "none",
		ProtectionLocked | ProtectionFrozen: "locked|frozen",
		ProtectionCanary | 1<<20:            "canary|0x100000",
	}
	for p, want := range cases {
		if p.String() != want {
			t.Errorf("%d.String() = %q, want %q", uint32(p), p.String(), want)
		}
	}
}
