//! Root tries every way it has to read another process's secrets, and finds none.
//!
//! A child (this test binary, re-run) holds known markers in every kind of protected object:
//! a guarded `LockedBuffer`, a frozen one, a strict `SecretBox`, a pooled `SecretBox`,
//! `SecretVec` and `SecretString`, an opened `Enclave`, a passphrase and the key the KDF
//! derives from it, an AEAD key, a `Stream` in the middle of a write, ML-KEM-768 and
//! ML-DSA-65 secret keys, and an age file's passphrase and decrypted plaintext. As controls it holds markers in a plain `Vec` and `String`. The
//! parent, as root, reads the child's memory with `/proc/PID/mem`, `process_vm_readv`,
//! `ptrace(PTRACE_PEEKDATA)`, gdb's `gcore` (with `set dump-excluded-mappings on`) and a
//! kernel core dump.
//!
//! - Every control is found by every method, or the test proves nothing.
//! - With memfd_secret (the default where the kernel has it), no method finds any marker.
//! - With the anonymous-memory fallback, root's live reads do find the markers (that is the
//!   threat memfd_secret exists for, and the test says so by asserting it), and the kernel
//!   core dump and a default `gcore` do not; `gcore` with `dump-excluded-mappings on` dumps
//!   `MADV_DONTDUMP` memory on purpose, and finds them.
//! - Then the child drops everything and purges, and the parent looks again through every
//!   readable mapping, heap and stack included: no marker, nor anything derived from one, is
//!   anywhere. This is what catches a staging copy (the KDF's passphrase on an ordinary stack,
//!   a Stream's plaintext in a heap buffer, a key import through a temporary).
//! - A grandchild forked while the secrets were live searches its own memory: nothing but the
//!   controls.
//!
//! **The test leaves no copy of its own.** In the child, each marker byte is computed from a
//! per-run nonce, the marker's number and the byte's index when it is written, straight into
//! the protected object (through `expose_mut`/`with_mut`/closures), so no ordinary buffer
//! ever holds a marker. The grandchild compares memory against markers computed byte by byte
//! on the fly, never materialised. Only the parent, which nobody searches, builds whole
//! markers (and derives the KDF key and the ML-KEM expanded key from them, to search for
//! those too).
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use strongroom::aead::Key;
use strongroom::kdf::{KdfParams, derive_key_combined};
use strongroom::kem::{DecapsulationKey, MlKem768};
use strongroom::sign::{MlDsa65, SigningKey};
use strongroom::stream::Encryptor;
use strongroom::{Enclave, LockedBuffer, Need, Policy, SecretBox, SecretString, SecretVec};

const ROLE: &str = "memory-inspection";
const NONCE_ENV: &str = "STRONGROOM_TEST_MARKER_NONCE";
const FALLBACK_ENV: &str = "STRONGROOM_TEST_ANONYMOUS_FALLBACK";
/// Makes the holder leave a staging copy behind, as a buggy key import would: the control
/// that shows the after-drop search can see one.
const LEAK_ENV: &str = "STRONGROOM_TEST_LEAVE_A_COPY";
const TEST_SECRET_MEMORY: &str = "root_reads_nothing_of_memfd_secret_backed_secrets";
const TEST_FALLBACK: &str = "the_anonymous_fallback_keeps_secrets_out_of_core_dumps";

/// Cheap KDF parameters: the test is about where bytes go, not about cost.
const KDF: KdfParams = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 };
const SALT: &[u8] = b"memory-inspection salt";

// Markers ---------------------------------------------------------------------------------

/// The protected markers: (number, length, name). Controls are numbered from 100.
const PROTECTED: &[(u8, usize, &str)] = &[
    (1, 32, "guarded LockedBuffer"),
    (2, 32, "frozen LockedBuffer"),
    (3, 32, "strict SecretBox"),
    (4, 32, "pooled SecretBox"),
    (5, 48, "SecretVec"),
    (6, 40, "SecretString"),
    (7, 32, "opened Enclave"),
    (8, 24, "KDF passphrase"),
    (9, 32, "AEAD key"),
    (10, 100, "Stream plaintext mid-write"),
    (11, 64, "ML-KEM-768 seed"),
    (12, 32, "ML-DSA-65 seed"),
    (13, 64, "age-decrypted plaintext"),
    (14, 20, "age passphrase"),
];
const CONTROL_VEC: (u8, usize) = (100, 32);
const CONTROL_STRING: (u8, usize) = (101, 40);

fn mix(mut z: u64) -> u64 {
    // splitmix64's finaliser
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Byte `i` of marker `which`: raw for binary markers, a lowercase letter for text ones.
fn marker_byte(nonce: u64, which: u8, i: usize) -> u8 {
    let word = mix(nonce ^ (u64::from(which) << 40) ^ (i as u64 / 8));
    let byte = (word >> ((i % 8) * 8)) as u8;
    if matches!(which, 6 | 101) { b'a' + byte % 26 } else { byte }
}

fn fill(bytes: &mut [u8], nonce: u64, which: u8) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = marker_byte(nonce, which, i);
    }
}

/// A whole marker: only the parent builds these.
fn marker(nonce: u64, which: u8, len: usize) -> Vec<u8> {
    (0..len).map(|i| marker_byte(nonce, which, i)).collect()
}

// The child -------------------------------------------------------------------------------

fn read_command(stdin: &mut impl BufRead) -> String {
    let mut line = String::new();
    stdin.read_line(&mut line).expect("the parent's command");
    line.trim().to_owned()
}

/// Prints one line for the parent (stdout is a pipe; one write per line).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    out.write_all(format!("{line}\n").as_bytes()).unwrap();
    out.flush().unwrap();
}

fn range_of(name: &str, bytes: &[u8]) {
    say(&format!(
        "range {} {:#x} {:#x}",
        name.replace(' ', "_"),
        bytes.as_ptr() as usize,
        bytes.as_ptr() as usize + bytes.len()
    ));
}

fn child() -> ! {
    let nonce: u64 = std::env::var(NONCE_ENV).unwrap().parse().unwrap();
    if std::env::var(FALLBACK_ENV).is_ok() {
        Policy::set_default(Policy { secret_memory: Need::Off, ..Policy::STANDARD }).unwrap();
    }
    let mut stdin = std::io::stdin().lock();

    let mut guarded = LockedBuffer::new(32).unwrap();
    fill(&mut guarded.expose_mut().unwrap(), nonce, 1);
    let mut frozen = LockedBuffer::new(32).unwrap();
    fill(&mut frozen.expose_mut().unwrap(), nonce, 2);
    frozen.freeze().unwrap();
    let strict = SecretBox::strict(|k: &mut [u8; 32]| fill(k, nonce, 3)).unwrap();
    let pooled = SecretBox::new(|k: &mut [u8; 32]| fill(k, nonce, 4)).unwrap();
    let mut vec = SecretVec::with_capacity(48).unwrap();
    for i in 0..48 {
        vec.push(marker_byte(nonce, 5, i)).unwrap();
    }
    let mut text = SecretString::new();
    for i in 0..40 {
        text.push(char::from(marker_byte(nonce, 6, i))).unwrap();
    }
    let mut plain = LockedBuffer::new(32).unwrap();
    fill(&mut plain.expose_mut().unwrap(), nonce, 7);
    let enclave = Enclave::new(&mut plain.expose_mut().unwrap()).unwrap();
    drop(plain);
    let opened = enclave.open().unwrap();
    let mut passphrase = LockedBuffer::new(24).unwrap();
    fill(&mut passphrase.expose_mut().unwrap(), nonce, 8);
    let derived = derive_key_combined(&passphrase.expose().unwrap(), SALT, &KDF).unwrap();
    let mut aead_bytes = LockedBuffer::new(32).unwrap();
    fill(&mut aead_bytes.expose_mut().unwrap(), nonce, 9);
    let aead_key = Key::from_locked(&aead_bytes).unwrap();
    drop(aead_bytes);
    let stream_key = Key::random().unwrap();
    let mut stream = Encryptor::new(&stream_key, std::io::sink()).unwrap();
    let mut stream_plain = LockedBuffer::new(100).unwrap();
    fill(&mut stream_plain.expose_mut().unwrap(), nonce, 10);
    stream.write_all(&stream_plain.expose().unwrap()).unwrap(); // less than a chunk: held inside
    drop(stream_plain);
    let mut kem_seed = LockedBuffer::new(64).unwrap();
    fill(&mut kem_seed.expose_mut().unwrap(), nonce, 11);
    let kem_key = DecapsulationKey::<MlKem768>::from_locked(&kem_seed).unwrap();
    drop(kem_seed);
    let (ciphertext, _shared) = kem_key.encapsulation_key().encapsulate().unwrap();
    let _again = kem_key.decapsulate(&ciphertext).unwrap();
    let mut dsa_seed = LockedBuffer::new(32).unwrap();
    fill(&mut dsa_seed.expose_mut().unwrap(), nonce, 12);
    let dsa_key = SigningKey::<MlDsa65>::from_locked_seed(&dsa_seed).unwrap();
    drop(dsa_seed);
    let _signature = dsa_key.sign(b"message", b"").unwrap();

    // An age file: encrypted to a passphrase from protected memory (the ciphertext may sit in
    // a Vec), then decrypted into a SecretVec.
    let mut age_pass = LockedBuffer::new(20).unwrap();
    fill(&mut age_pass.expose_mut().unwrap(), nonce, 14);
    let mut age_pass_copy = LockedBuffer::new(20).unwrap();
    age_pass_copy.copy_from(&age_pass.expose().unwrap()).unwrap();
    let recipient = strongroom::age::Recipient::passphrase(age_pass_copy, Some(2)).unwrap();
    let mut age_writer = strongroom::age::Encryptor::new(Vec::new(), &[recipient]).unwrap();
    let mut age_plain = LockedBuffer::new(64).unwrap();
    fill(&mut age_plain.expose_mut().unwrap(), nonce, 13);
    age_writer.write_all(&age_plain.expose().unwrap()).unwrap();
    drop(age_plain);
    let age_file = age_writer.finish().unwrap();
    let identity = strongroom::age::Identity::passphrase(age_pass);
    let mut age_opened = SecretVec::new();
    strongroom::age::Decryptor::new(&age_file[..], &[identity]).unwrap().read_to_end_secret(&mut age_opened).unwrap();

    let mut control = vec![0u8; CONTROL_VEC.1];
    fill(&mut control, nonce, CONTROL_VEC.0);
    let control_text: String =
        (0..CONTROL_STRING.1).map(|i| char::from(marker_byte(nonce, CONTROL_STRING.0, i))).collect();

    // Where the objects that hand out their bytes live, for ptrace (addresses, not contents).
    range_of("guarded", &guarded.expose().unwrap());
    range_of("frozen", &frozen.expose().unwrap());
    range_of("pooled", &pooled.expose().unwrap()[..]);
    range_of("vec", &vec.expose().unwrap());
    range_of("opened_enclave", &opened.expose().unwrap());
    range_of("derived", &derived.key.expose().unwrap());
    range_of("age_plaintext", &age_opened.expose().unwrap());
    range_of("control_vec", &control);
    range_of("control_string", control_text.as_bytes());
    say("ready");

    loop {
        match read_command(&mut stdin).as_str() {
            "fork" => grandchild(nonce),
            "abort" => std::process::abort(), // a kernel core dump, secrets live
            "drop" => {
                if std::env::var(LEAK_ENV).is_ok() {
                    // A copy in an ordinary heap buffer that outlives the secret (freed
                    // memory may be reused before the search, so the control keeps it).
                    let mut staging = vec![0u8; 4096];
                    staging[64..96].copy_from_slice(&guarded.expose().unwrap());
                    std::mem::forget(std::hint::black_box(staging));
                }
                drop((guarded, frozen, strict, pooled, vec, text, enclave, opened, passphrase, derived, aead_key));
                drop(stream);
                drop((stream_key, kem_key, ciphertext, _shared, _again, dsa_key, _signature));
                drop((age_file, age_opened));
                strongroom::purge();
                strongroom::kdf::release_work_memory();
                say("dropped");
                break;
            }
            other => panic!("unknown command {other:?}"),
        }
    }
    // The controls live on until the parent is done (it closes the pipe, or kills us).
    let _ = read_command(&mut stdin);
    std::hint::black_box((&control, &control_text));
    std::process::exit(0)
}

/// Forks; the grandchild searches its own memory and reports which markers it found.
fn grandchild(nonce: u64) {
    // SAFETY: fork in a test child; the grandchild only reads /proc/self and exits.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let mut found = Vec::new();
        let mut markers: Vec<(u8, usize)> = PROTECTED.iter().map(|&(w, l, _)| (w, l)).collect();
        markers.extend([CONTROL_VEC, CONTROL_STRING]);
        let mem = File::open("/proc/self/mem").unwrap();
        for mapping in maps(std::process::id()) {
            let Ok(bytes) = read_mapping(&mem, &mapping) else { continue };
            for &(which, len) in &markers {
                if !found.contains(&which) && contains_marker(&bytes, nonce, which, len) {
                    found.push(which);
                }
            }
        }
        say(&format!("grandchild found {found:?}"));
        // SAFETY: _exit ends the forked process without running the parent's destructors.
        unsafe { libc::_exit(0) };
    }
    let mut status = 0;
    // SAFETY: waits for the grandchild just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
}

/// Whether `haystack` holds marker `which` (computed byte by byte, never built whole).
fn contains_marker(haystack: &[u8], nonce: u64, which: u8, len: usize) -> bool {
    let first = marker_byte(nonce, which, 0);
    memchr::memchr_iter(first, haystack)
        .any(|at| haystack.len() - at >= len && (1..len).all(|i| haystack[at + i] == marker_byte(nonce, which, i)))
}

// Reading another process ---------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Mapping {
    start: usize,
    end: usize,
    perms: String,
    path: String,
}

fn maps(pid: u32) -> Vec<Mapping> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (lo, hi) = fields.next()?.split_once('-')?;
            let perms = fields.next()?.to_owned();
            let path = fields.nth(3).unwrap_or("").to_owned();
            Some(Mapping {
                start: usize::from_str_radix(lo, 16).ok()?,
                end: usize::from_str_radix(hi, 16).ok()?,
                perms,
                path,
            })
        })
        .filter(|m| m.perms.starts_with('r') && m.path != "[vvar]" && m.path != "[vsyscall]")
        .collect()
}

fn read_mapping(mem: &File, m: &Mapping) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; m.end - m.start];
    mem.read_exact_at(&mut bytes, m.start as u64)?;
    Ok(bytes)
}

fn process_vm_read(pid: u32, m: &Mapping) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; m.end - m.start];
    let local = libc::iovec { iov_base: bytes.as_mut_ptr().cast(), iov_len: bytes.len() };
    let remote = libc::iovec { iov_base: m.start as *mut libc::c_void, iov_len: bytes.len() };
    // SAFETY: `local` describes `bytes`, writable for its length; the remote side is only read
    // by the kernel, which checks it.
    let got = unsafe { libc::process_vm_readv(pid as i32, &local, 1, &remote, 1, 0) };
    if got < 0 {
        return Err(std::io::Error::last_os_error());
    }
    bytes.truncate(got as usize);
    Ok(bytes)
}

/// `range` of a stopped tracee, word by word with PTRACE_PEEKDATA.
fn peek(pid: i32, start: usize, end: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(end - start);
    let mut at = start & !7;
    while at < end {
        // SAFETY: errno is this thread's; clearing it lets -1 data be told from an error.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: PEEKDATA reads a word of the tracee at `at`; the kernel checks the address.
        let word = unsafe {
            libc::ptrace(libc::PTRACE_PEEKDATA, pid, at as *mut libc::c_void, std::ptr::null_mut::<libc::c_void>())
        };
        let err = std::io::Error::last_os_error();
        if word == -1 && err.raw_os_error() != Some(0) {
            return Err(err);
        }
        bytes.extend_from_slice(&word.to_ne_bytes());
        at += 8;
    }
    let skip = start - (start & !7);
    Ok(bytes[skip..skip + (end - start)].to_vec())
}

/// Attaches to `pid` with ptrace, runs `f` while it is stopped, and detaches.
fn while_traced<R>(pid: i32, f: impl FnOnce() -> R) -> R {
    // SAFETY: attach to our own child; the kernel checks permission.
    let attached = unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0usize, 0usize) };
    assert_eq!(attached, 0, "ptrace attach: {}", std::io::Error::last_os_error());
    let mut status = 0;
    // SAFETY: waits for the tracee's attach stop.
    unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    let result = f();
    // SAFETY: detach from the tracee attached above; it resumes.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize) };
    result
}

// The parent ------------------------------------------------------------------------------

/// Named byte strings to search for.
type Markers = Vec<(String, Vec<u8>)>;

struct Holder {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    ranges: Vec<(String, usize, usize)>,
    nonce: u64,
    dir: std::path::PathBuf,
}

impl Holder {
    fn start(test: &str, fallback: bool) -> Holder {
        Holder::start_with(test, fallback, false)
    }

    fn start_with(test: &str, fallback: bool, leave_a_copy: bool) -> Holder {
        let nonce =
            mix(u64::from(std::process::id())) ^ mix(std::time::UNIX_EPOCH.elapsed().unwrap().as_nanos() as u64);
        let dir = std::env::temp_dir().join(format!("strongroom-inspection-{}-{test}-{fallback}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut cmd = common::child_command(test, ROLE, &["prlimit", "--core=unlimited"]);
        cmd.env(NONCE_ENV, nonce.to_string()).current_dir(&dir).stdin(Stdio::piped()).stdout(Stdio::piped());
        if fallback {
            cmd.env(FALLBACK_ENV, "1");
        }
        if leave_a_copy {
            cmd.env(LEAK_ENV, "1");
        }
        let mut child = cmd.spawn().expect("the holder starts");
        let stdin = child.stdin.take().unwrap();
        let mut holder = Holder {
            stdout: BufReader::new(child.stdout.take().unwrap()),
            child,
            stdin,
            ranges: Vec::new(),
            nonce,
            dir,
        };
        loop {
            let line = holder.line();
            if line == "ready" {
                break;
            }
            if let Some(rest) = line.strip_prefix("range ") {
                let parts: Vec<&str> = rest.split(' ').collect();
                let parse = |s: &str| usize::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
                holder.ranges.push((parts[0].to_owned(), parse(parts[1]), parse(parts[2])));
            }
        }
        holder
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        assert!(!line.is_empty(), "the holder ended early: {:?}", self.child.try_wait());
        line.trim().to_owned()
    }

    fn command(&mut self, command: &str, answer_prefix: &str) -> String {
        writeln!(self.stdin, "{command}").unwrap();
        loop {
            let line = self.line();
            if line.starts_with(answer_prefix) {
                return line;
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Every marker the parent searches for: the protected ones, what the library derives
    /// from them, and the controls, with their names.
    fn markers(&self) -> (Markers, Markers) {
        let mut protected: Vec<(String, Vec<u8>)> =
            PROTECTED.iter().map(|&(w, l, name)| (name.to_owned(), marker(self.nonce, w, l))).collect();
        // Derived: the KDF's key and the ML-KEM expanded decapsulation key's secret part.
        let pass = marker(self.nonce, 8, 24);
        let derived = derive_key_combined(&pass, SALT, &KDF).unwrap();
        protected.push(("KDF-derived key".into(), derived.key.expose().unwrap().to_vec()));
        let mut seed = LockedBuffer::new(64).unwrap();
        seed.copy_from(&marker(self.nonce, 11, 64)).unwrap();
        let kem = DecapsulationKey::<MlKem768>::from_locked(&seed).unwrap();
        protected.push(("ML-KEM-768 expanded key".into(), kem.expanded().unwrap()[..32].to_vec()));
        let controls = vec![
            ("control Vec".to_owned(), marker(self.nonce, CONTROL_VEC.0, CONTROL_VEC.1)),
            ("control String".to_owned(), marker(self.nonce, CONTROL_STRING.0, CONTROL_STRING.1)),
        ];
        (protected, controls)
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which of `markers` occur in `bytes`.
fn found_in<'m>(bytes: &[u8], markers: &'m [(String, Vec<u8>)]) -> Vec<&'m str> {
    markers.iter().filter(|(_, m)| memchr::memmem::find(bytes, m).is_some()).map(|(name, _)| name.as_str()).collect()
}

/// Reads every readable mapping with `read`; returns what it read (concatenated, with a gap
/// between mappings) and how many mappings could not be read (memfd_secret, guard pages).
fn read_all(pid: u32, mut read: impl FnMut(&Mapping) -> std::io::Result<Vec<u8>>) -> (Vec<u8>, usize) {
    let mut all = Vec::new();
    let mut unreadable = 0;
    for m in maps(pid) {
        match read(&m) {
            Ok(bytes) => {
                all.extend_from_slice(&bytes);
                all.extend_from_slice(&[0; 8]);
            }
            Err(_) => unreadable += 1,
        }
    }
    (all, unreadable)
}

fn gcore(pid: u32, dir: &std::path::Path, excluded_mappings: bool) -> Vec<u8> {
    let file = dir.join(format!("gcore-{excluded_mappings}"));
    let out = std::process::Command::new("gdb")
        .args(["-nx", "-batch", "-p", &pid.to_string()])
        .args(["-ex", "set use-coredump-filter off"])
        .args([
            "-ex",
            if excluded_mappings { "set dump-excluded-mappings on" } else { "set dump-excluded-mappings off" },
        ])
        .arg("-ex")
        .arg(format!("gcore {}", file.display()))
        .output()
        .expect("gdb runs");
    let dump = std::fs::read(&file)
        .unwrap_or_else(|_| panic!("gcore wrote no file: {}", String::from_utf8_lossy(&out.stderr)));
    let _ = std::fs::remove_file(&file);
    dump
}

fn prerequisites(test: &str) -> bool {
    if std::env::var_os("STRONGROOM_UNDER_ASAN").is_some() {
        // Not a missing prerequisite: the instrumented holder's image is another thing.
        common::skip(test, "under AddressSanitizer the process image holds terabytes of shadow memory to search");
        return false;
    }
    if !common::is_root() {
        common::missing(test, "reading another process's memory needs root");
        return false;
    }
    if !common::have("gdb") {
        common::missing(test, "gdb (for gcore) is not installed");
        return false;
    }
    if !common::have("prlimit") {
        common::missing(test, "prlimit (util-linux) is not installed");
        return false;
    }
    true
}

/// The kernel's core dump of the holder (after `abort`), or None (with a visible skip) where
/// core_pattern sends cores elsewhere.
fn kernel_core(holder: &mut Holder, test: &str) -> Option<Vec<u8>> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    writeln!(holder.stdin, "abort").unwrap();
    let _ = holder.child.wait();
    if pattern.trim_start().starts_with('|') || pattern.contains('/') {
        common::skip(
            test,
            &format!("(kernel core dump part) core_pattern {:?} writes no core file here", pattern.trim()),
        );
        return None;
    }
    let core = std::fs::read_dir(&holder.dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "core" || n.starts_with("core.")));
    let Some(core) = core else {
        common::skip(test, "(kernel core dump part) no core file was written");
        return None;
    };
    Some(std::fs::read(core).unwrap())
}

/// What every method saw, checked against what the protections promise.
fn inspect(holder: &mut Holder, test: &str, fallback: bool) {
    let pid = holder.pid();
    let (protected, controls) = holder.markers();
    let all_markers: Vec<(String, Vec<u8>)> = protected.iter().chain(&controls).cloned().collect();
    let mem = File::open(format!("/proc/{pid}/mem")).unwrap();

    let report = |method: &str, bytes: &[u8], expect_protected: bool| {
        let found = found_in(bytes, &all_markers);
        for (name, _) in &controls {
            assert!(found.contains(&name.as_str()), "{method}: the {name} was not found, so this method sees nothing");
        }
        let leaked: Vec<&str> = found.iter().copied().filter(|n| !n.starts_with("control")).collect();
        if expect_protected {
            // Root reads anonymous memory: the threat memfd_secret answers. (Strict cells are
            // no-access at rest, so a reader that takes only readable mappings misses those.)
            assert!(
                leaked.contains(&"guarded LockedBuffer"),
                "{method}: root should read anonymous memory; found {leaked:?}"
            );
        } else {
            assert!(leaked.is_empty(), "{method}: found {leaked:?} in the holder's memory");
        }
        eprintln!("{test}: {method}: controls found, protected markers found: {}", leaked.len());
    };

    let (bytes, unreadable) = read_all(pid, |m| read_mapping(&mem, m));
    report("/proc/PID/mem", &bytes, fallback);
    if !fallback {
        assert!(unreadable > 0, "no mapping refused /proc/PID/mem: no memfd_secret mapping in the holder");
    }
    let (bytes, _) = read_all(pid, |m| process_vm_read(pid, m));
    report("process_vm_readv", &bytes, fallback);

    // PTRACE_PEEKDATA, over the ranges the holder named (word by word is slow for everything).
    let ranges = holder.ranges.clone();
    let peeked: Vec<(String, std::io::Result<Vec<u8>>)> = while_traced(pid as i32, || {
        ranges.iter().map(|(name, lo, hi)| (name.clone(), peek(pid as i32, *lo, *hi))).collect()
    });
    for (name, got) in &peeked {
        match (name.starts_with("control"), got) {
            (true, Ok(bytes)) => assert!(!found_in(bytes, &controls).is_empty(), "PEEKDATA: the {name} was not found"),
            (true, Err(e)) => panic!("PEEKDATA could not read the {name}: {e}"),
            (false, Ok(bytes)) if !fallback => {
                panic!("PEEKDATA read the {name} ({} bytes) of a memfd_secret-backed secret", bytes.len())
            }
            (false, Ok(bytes)) => {
                assert!(!found_in(bytes, &protected).is_empty(), "PEEKDATA: anonymous {name} not seen")
            }
            (false, Err(_)) => assert!(!fallback, "PEEKDATA could not read the anonymous {name}"),
        }
    }
    eprintln!("{test}: PTRACE_PEEKDATA: {} ranges checked", peeked.len());

    let dump = gcore(pid, &holder.dir, true);
    report("gcore (dump-excluded-mappings on)", &dump, fallback);
    if fallback {
        let dump = gcore(pid, &holder.dir, false);
        report("gcore (default)", &dump, false);
    }

    let answer = holder.command("fork", "grandchild found");
    let found: Vec<u8> = answer
        .trim_start_matches("grandchild found [")
        .trim_end_matches(']')
        .split(", ")
        .filter_map(|n| n.parse().ok())
        .collect();
    assert!(
        found.contains(&CONTROL_VEC.0) && found.contains(&CONTROL_STRING.0),
        "the grandchild saw no control: {answer}"
    );
    assert!(found.iter().all(|&w| w >= 100), "a forked grandchild sees protected markers: {answer}");
    eprintln!("{test}: forked grandchild: controls only");

    let left = left_after_drop(holder);
    assert!(left.is_empty(), "after dropping and purging every secret, copies remain in the holder's memory: {left:?}");
    eprintln!("{test}: after drop and purge: no marker anywhere (heap, stacks, every mapping)");
}

/// Drops and purges every secret in the holder, then returns the markers still found in any
/// readable mapping (the controls must be, or the search sees nothing).
fn left_after_drop(holder: &mut Holder) -> Vec<String> {
    let (protected, controls) = holder.markers();
    holder.command("drop", "dropped");
    let mem = File::open(format!("/proc/{}/mem", holder.pid())).unwrap();
    let (bytes, _) = read_all(holder.pid(), |m| read_mapping(&mem, m));
    assert_eq!(found_in(&bytes, &controls).len(), controls.len(), "after drop: a control was not found");
    found_in(&bytes, &protected).into_iter().map(str::to_owned).collect()
}

/// A fresh holder, its secrets live, dumps core through the kernel.
fn inspect_kernel_core(test: &str, fallback: bool) {
    let mut holder = Holder::start(test, fallback);
    let (protected, controls) = holder.markers();
    let Some(core) = kernel_core(&mut holder, test) else { return };
    for (name, _) in &controls {
        assert!(found_in(&core, &controls).contains(&name.as_str()), "kernel core dump: the {name} was not found");
    }
    let leaked = found_in(&core, &protected);
    assert!(leaked.is_empty(), "the kernel core dump holds {leaked:?}");
    eprintln!("{test}: kernel core dump: controls found, no protected marker");
}

#[test]
fn root_reads_nothing_of_memfd_secret_backed_secrets() {
    if common::is_child(ROLE) {
        child();
    }
    if !prerequisites(TEST_SECRET_MEMORY) {
        return;
    }
    if !common::kernel_has_memfd_secret() {
        common::missing(TEST_SECRET_MEMORY, "this kernel has no memfd_secret");
        return;
    }
    let mut holder = Holder::start(TEST_SECRET_MEMORY, false);
    inspect(&mut holder, TEST_SECRET_MEMORY, false);
    inspect_kernel_core(TEST_SECRET_MEMORY, false);
}

#[test]
fn the_anonymous_fallback_keeps_secrets_out_of_core_dumps() {
    if common::is_child(ROLE) {
        child();
    }
    if common::skip_under_qemu(
        TEST_FALLBACK,
        "implements neither process_vm_readv nor ptrace, ignores MADV_DONTDUMP and writes the guest's core dumps itself",
    ) {
        return;
    }
    if !prerequisites(TEST_FALLBACK) {
        return;
    }
    let mut holder = Holder::start(TEST_FALLBACK, true);
    inspect(&mut holder, TEST_FALLBACK, true);
    inspect_kernel_core(TEST_FALLBACK, true);
}

#[test]
fn a_staging_copy_left_on_the_heap_is_found() {
    const TEST: &str = "a_staging_copy_left_on_the_heap_is_found";
    if common::is_child(ROLE) {
        child();
    }
    if !prerequisites(TEST) {
        return;
    }
    let mut holder = Holder::start_with(TEST, false, true);
    let left = left_after_drop(&mut holder);
    assert_eq!(left, ["guarded LockedBuffer"], "the after-drop search missed a copy left on the heap");
}
