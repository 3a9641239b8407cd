//! Raw observation of protected memory for the crate's unit tests: proof that freed or
//! shrunk memory was wiped needs a look at bytes no safe handle reaches any more.

/// Copies `len` bytes at `ptr`.
///
/// # Safety
/// `ptr..ptr + len` must be mapped and readable for the whole call (a live block, or a
/// freed pool slot or cached region, which the allocator keeps mapped), and nothing may
/// write it concurrently (the tests that call this are single-threaded over that memory).
pub(crate) unsafe fn peek(ptr: *const u8, len: usize) -> Vec<u8> {
    // SAFETY: the caller guarantees the range is mapped, readable and not written meanwhile;
    // the slice lives only until `to_vec` has copied it.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}

/// How many of the `len` bytes at `ptr` are zero before the first that is not, read in
/// place: a copy of a secure stack (to measure how deep a call went) would put what the call
/// left there on the heap, the very leak the residue tests look for.
///
/// # Safety
/// As for [`peek`].
#[cfg(all(unix, not(miri)))]
pub(crate) unsafe fn zeros_from(ptr: *const u8, len: usize) -> usize {
    // SAFETY: the caller guarantees the range is mapped, readable and not written meanwhile;
    // the slice lives only for this count.
    unsafe { std::slice::from_raw_parts(ptr, len) }.iter().take_while(|&&b| b == 0).count()
}

/// The margin the stack-depth tests demand: half the stack, or all of it under
/// AddressSanitizer (`scripts/verify-all` sets `STRONGROOM_UNDER_ASAN`), whose redzones
/// widen every frame (measured: up to 1.3x); there the test still proves the calls fit.
#[cfg(all(unix, not(miri)))]
pub(crate) fn stack_margin(stack_bytes: usize) -> usize {
    if std::env::var_os("STRONGROOM_UNDER_ASAN").is_some() { stack_bytes } else { stack_bytes / 2 }
}

/// Under qemu-user (`scripts/cross-test arm64` sets `STRONGROOM_TEST_QEMU`), reports `test`
/// skipped because qemu-user `lacks` something it needs, and returns true: the caller returns.
/// Natively it returns false and the test runs. (Written to stderr directly: libtest
/// captures `eprintln!`.)
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn skip_under_qemu(test: &str, lacks: &str) -> bool {
    use std::io::Write;
    let qemu = std::env::var_os("STRONGROOM_TEST_QEMU").is_some();
    if qemu {
        let line = format!("SKIPPED {test}: under qemu-user, which {lacks}\n");
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
    qemu
}

/// Runs `work` on a fresh thread, from a frame 64 KiB below the thread's entry (so that
/// later, shallow calls cannot overwrite what it left), parks that thread, and returns a
/// copy of its whole stack: what `work` left behind on an ordinary thread stack.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn stack_after(work: impl FnOnce() + Send + 'static) -> Vec<u8> {
    use std::os::unix::fs::FileExt;
    use std::sync::mpsc;

    #[inline(never)]
    fn deep<R>(f: impl FnOnce() -> R) -> R {
        let pad = std::hint::black_box([0u8; 64 * 1024]);
        let r = f();
        std::hint::black_box(&pad);
        r
    }

    let (report, reported) = mpsc::channel();
    let (resume, resumed) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let here = std::hint::black_box(0u8);
        deep(work);
        report.send(&here as *const u8 as usize).unwrap();
        resumed.recv().unwrap();
    });
    let addr = reported.recv().unwrap();
    let entry = crate::sys::procfs::smaps_entry(addr).expect("the worker's stack is mapped");
    let mut stack = vec![0u8; entry.end - entry.start];
    std::fs::File::open("/proc/self/mem").unwrap().read_exact_at(&mut stack, entry.start as u64).unwrap();
    resume.send(()).unwrap();
    worker.join().unwrap();
    stack
}

/// Which of `secrets` (16 bytes or more each; compared by their first 16) occur in `extra`
/// or anywhere in this process's ordinary memory: every mapping that is readable and
/// writable and not excluded from core dumps. strongroom's own mappings are excluded from
/// dumps (or are `memfd_secret`, unreadable) and hold secrets by design; everything else
/// (heap, thread stacks, data) must not. Each hit is (index in `secrets`, where).
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn find_in_ordinary_memory(secrets: &[&[u8]], extra: &[u8]) -> Vec<(usize, String)> {
    use std::os::unix::fs::FileExt;
    const PROBE: usize = 16;
    assert!(secrets.iter().all(|s| s.len() >= PROBE), "secrets are probed by their first {PROBE} bytes");
    let mut first = [false; 256];
    for s in secrets {
        first[usize::from(s[0])] = true;
    }
    let scan = |bytes: &[u8], base: usize, what: &str, hits: &mut Vec<(usize, String)>| {
        for (i, &b) in bytes.iter().enumerate().take(bytes.len().saturating_sub(PROBE - 1)) {
            if first[usize::from(b)] {
                for (n, s) in secrets.iter().enumerate() {
                    if bytes[i..i + PROBE] == s[..PROBE] {
                        hits.push((n, format!("{what} at {:#x}", base + i)));
                    }
                }
            }
        }
    };
    let mut hits = Vec::new();
    scan(extra, 0, "the bytes given", &mut hits);
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps is readable");
    let mut regions = Vec::new(); // (start, end, name, whether to scan it)
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first_field = fields.next().unwrap_or("");
        if let Some((lo, hi)) = first_field.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            let perms = fields.next().unwrap_or("");
            let name = fields.nth(3).unwrap_or("anonymous").to_owned();
            regions.push((lo, hi, name, perms.starts_with("rw")));
        } else if first_field == "VmFlags:" && line.split_whitespace().any(|f| f == "dd") {
            regions.last_mut().expect("VmFlags follows its mapping").3 = false;
        }
    }
    let mem = std::fs::File::open("/proc/self/mem").expect("/proc/self/mem is readable");
    let mut chunk = vec![0u8; 1 << 20];
    for (start, end, name, _) in regions.into_iter().filter(|r| r.3) {
        let mut at = start;
        loop {
            let len = chunk.len().min(end - at);
            // A page that cannot be read (a guard inside a stack mapping) holds nothing.
            if mem.read_exact_at(&mut chunk[..len], at as u64).is_ok() {
                scan(&chunk[..len], at, &name, &mut hits);
            }
            if at + len >= end {
                break;
            }
            at += len - (PROBE - 1); // overlap, so that a secret across two chunks is seen
        }
    }
    chunk.iter_mut().for_each(|b| *b = 0);
    hits
}
