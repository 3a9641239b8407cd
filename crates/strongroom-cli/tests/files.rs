//! `strongroom encrypt | decrypt | keygen | cat` end to end: round trips for every recipient
//! type, passphrase files, the whole age testkit through `decrypt`, and failures that leave
//! an existing output file as it was.

mod common;

use common::{ok, plaintext, strongroom, tempdir};

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

#[test]
fn keygen_encrypt_decrypt_for_each_recipient_type() {
    let dir = tempdir("round-trip");
    for (kind, keygen) in [("x25519", &["keygen", "-o", "x25519.txt"][..]), ("pq", &["keygen", "--pq", "-o", "pq.txt"])]
    {
        ok(&strongroom(&dir, keygen, b""));
        let identity = format!("{kind}.txt");
        let meta = std::fs::metadata(dir.join(&identity)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{kind}: identity file mode");
        assert!(!strongroom(&dir, keygen, b"").status.success(), "keygen overwrote {identity}");
        let recipient =
            String::from_utf8(ok(&strongroom(&dir, &["keygen", "-y", &identity], b"")).stdout.clone()).unwrap();
        let recipient = recipient.trim();
        assert!(recipient.starts_with(if kind == "pq" { "age1pq1" } else { "age1" }), "{recipient}");
        for len in [0, 1, 200_000] {
            for armor in [&[][..], &["-a"][..]] {
                let args: Vec<&str> = ["encrypt", "-r", recipient].into_iter().chain(armor.iter().copied()).collect();
                let sealed = ok(&strongroom(&dir, &args, &plaintext(len))).stdout.clone();
                let opened = ok(&strongroom(&dir, &["decrypt", "-i", &identity], &sealed)).stdout.clone();
                assert!(opened == plaintext(len), "{kind}, len {len}, {armor:?}");
                let via_cat = ok(&strongroom(&dir, &["cat", "-i", &identity], &sealed)).stdout.clone();
                assert!(via_cat == plaintext(len));
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A passphrase file gives its bytes less one trailing `\n` or `\r\n`; nothing else is
/// trimmed (the original sedit's silent trimming is not copied).
#[test]
fn passphrase_files_drop_one_trailing_newline_and_nothing_else() {
    let dir = tempdir("passphrase");
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    write("plain", b"hunter2");
    write("lf", b"hunter2\n");
    write("crlf", b"hunter2\r\n");
    write("space", b"hunter2 \n");
    let encrypt = ["encrypt", "--passphrase-file", "plain", "--work-factor", "10", "-o", "sealed.age"];
    ok(&strongroom(&dir, &encrypt, b"the secret"));
    for same in ["plain", "lf", "crlf"] {
        let out = ok(&strongroom(&dir, &["decrypt", "--passphrase-file", same, "sealed.age"], b"")).stdout.clone();
        assert_eq!(out, b"the secret", "{same}");
    }
    let out = strongroom(&dir, &["decrypt", "--passphrase-file", "space", "sealed.age"], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong key or passphrase"), "{out:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A decryption that fails leaves an existing `-o` file as it was, and no temporary file.
#[test]
fn a_failed_decryption_leaves_the_old_output_and_nothing_else() {
    let dir = tempdir("atomic");
    ok(&strongroom(&dir, &["keygen", "-o", "mine.txt"], b""));
    ok(&strongroom(&dir, &["keygen", "-o", "other.txt"], b""));
    let to = String::from_utf8(ok(&strongroom(&dir, &["keygen", "-y", "mine.txt"], b"")).stdout.clone()).unwrap();
    let mut sealed = ok(&strongroom(&dir, &["encrypt", "-r", to.trim()], &plaintext(300_000))).stdout.clone();
    std::fs::write(dir.join("out"), b"the old file").unwrap();
    let refused = strongroom(&dir, &["decrypt", "-i", "mine.txt", "-o", "out"], &sealed);
    assert_eq!(refused.status.code(), Some(1), "overwrote an existing file without -f");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("-f"), "{refused:?}");
    let wrong_key = strongroom(&dir, &["decrypt", "-f", "-i", "other.txt", "-o", "out"], &sealed);
    assert_eq!(wrong_key.status.code(), Some(1));
    let last = sealed.len() - 1;
    sealed[last] ^= 1; // the last chunk no longer authenticates, after four that do
    let tampered = strongroom(&dir, &["decrypt", "-f", "-i", "mine.txt", "-o", "out"], &sealed);
    assert_eq!(tampered.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("discarded"), "{tampered:?}");
    assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"the old file");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["mine.txt", "other.txt", "out"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The age testkit (`../shared/vectors/age-testkit`) through `strongroom decrypt`: each
/// vector's identities or passphrases as files; a success prints the plaintext whose
/// SHA-256 the vector names; every failure exits 1.
#[test]
fn the_age_testkit_through_decrypt() {
    let testkit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/age-testkit");
    if !testkit.is_dir() {
        eprintln!("SKIPPED the_age_testkit_through_decrypt: ../shared is absent beside the repo root");
        return;
    }
    let dir = tempdir("testkit");
    let mut checked = 0;
    for entry in std::fs::read_dir(&testkit).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("README") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap();
        let keys: Vec<(String, String)> = String::from_utf8_lossy(&bytes[..split])
            .lines()
            .filter_map(|l| l.split_once(": ").map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        let get = |key: &str| keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let mut file = bytes[split + 2..].to_vec();
        if get("compressed") == Some("zlib") {
            let mut inflated = Vec::new();
            flate2::read::ZlibDecoder::new(&file[..]).read_to_end(&mut inflated).unwrap();
            file = inflated;
        }
        let mut args = vec!["decrypt".to_owned()];
        for (i, (key, value)) in keys.iter().enumerate() {
            let secret = dir.join(format!("secret-{i}"));
            std::fs::write(&secret, value).unwrap();
            std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
            match key.as_str() {
                "identity" => args.extend(["-i".to_owned(), secret.to_string_lossy().into_owned()]),
                "passphrase" => args.extend(["--passphrase-file".to_owned(), secret.to_string_lossy().into_owned()]),
                _ => {}
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = strongroom(&dir, &args, &file);
        if get("expect") == Some("success") {
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            let hash: String = Sha256::digest(&out.stdout).iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(Some(hash.as_str()), get("payload"), "{name}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        }
        checked += 1;
    }
    assert!(checked >= 115, "{checked}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The original sedit tool's files (`../shared/vectors/sedit`) through `strongroom cat`.
#[test]
fn the_original_sedit_files_through_cat() {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/sedit");
    if !vectors.is_dir() {
        eprintln!("SKIPPED the_original_sedit_files_through_cat: ../shared is absent beside the repo root");
        return;
    }
    let dir = tempdir("sedit");
    for (name, passphrase) in [
        ("v1_constructed", "legacy-v1"),
        ("v2_basic", "correct horse battery staple"),
        ("v2_unicode", "pässwörd-🔑"),
        ("v2_empty_plaintext", "a"),
        ("v3_cheap_params", "pw"),
    ] {
        std::fs::write(dir.join("pass"), passphrase).unwrap();
        std::fs::set_permissions(dir.join("pass"), std::fs::Permissions::from_mode(0o600)).unwrap();
        let file = vectors.join(format!("{name}.sedit"));
        let out =
            ok(&strongroom(&dir, &["cat", "--passphrase-file", "pass", file.to_str().unwrap()], b"")).stdout.clone();
        assert_eq!(out, std::fs::read(vectors.join(format!("{name}.plaintext"))).unwrap(), "{name}");
    }
    std::fs::write(dir.join("pass"), "wrong").unwrap();
    let file = vectors.join("v3_cheap_params.sedit");
    let out = strongroom(&dir, &["cat", "--passphrase-file", "pass", file.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SIGKILL at many points of a run writing `-o` (while the input still arrives, and around
/// the end, when it seals, syncs and renames): the target then holds the old file, or the
/// whole new one, never a partial one.
#[test]
fn a_killed_writer_leaves_the_old_file_or_the_whole_new_one() {
    let dir = tempdir("sigkill");
    ok(&strongroom(&dir, &["keygen", "-o", "key.txt"], b""));
    let to = String::from_utf8(ok(&strongroom(&dir, &["keygen", "-y", "key.txt"], b"")).stdout.clone()).unwrap();
    let data = plaintext(1 << 20);
    let run = |kill_after: Option<std::time::Duration>| {
        std::fs::write(dir.join("out"), b"the old file").unwrap();
        let start = std::time::Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_strongroom"))
            .current_dir(&dir)
            .args(["encrypt", "-f", "-r", to.trim(), "-o", "out"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let feed = data.clone();
        let feeder = std::thread::spawn(move || {
            for piece in feed.chunks(64 * 1024) {
                if input.write_all(piece).is_err() {
                    return;
                }
            }
        });
        if let Some(delay) = kill_after {
            std::thread::sleep(delay);
            let _ = child.kill(); // SIGKILL
        }
        child.wait().unwrap();
        feeder.join().unwrap();
        start.elapsed()
    };
    // How long a whole run takes here; then kill at 40 points from the start to past the end.
    let whole = run(None);
    let (mut old_kept, mut new_whole) = (0, 0);
    for i in 0..40u32 {
        let delay = whole * i / 32;
        run(Some(delay));
        let out = std::fs::read(dir.join("out")).unwrap();
        if out == b"the old file" {
            old_kept += 1;
        } else {
            let opened = ok(&strongroom(&dir, &["decrypt", "-i", "key.txt"], &out)).stdout.clone();
            assert!(opened == data, "killed after {delay:?}: a partial file replaced the old one");
            new_whole += 1;
        }
    }
    eprintln!(
        "SIGKILL at 40 points over {whole:?}: old file kept {old_kept} times, the whole new file {new_whole} times"
    );
    assert!(old_kept > 0 && new_whole > 0, "the kills did not cover both sides of the commit");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Decrypting 256 MiB (through pipes, encrypted on the fly) peaks under 32 MiB of resident
/// memory: the payload is read and released one 64 KiB chunk at a time.
#[test]
fn decrypting_256_mib_stays_in_constant_memory() {
    let dir = tempdir("constant-memory");
    ok(&strongroom(&dir, &["keygen", "-o", "key.txt"], b""));
    let to = String::from_utf8(ok(&strongroom(&dir, &["keygen", "-y", "key.txt"], b"")).stdout.clone()).unwrap();
    let bin = env!("CARGO_BIN_EXE_strongroom");
    let mut encrypt = Command::new(bin)
        .current_dir(&dir)
        .args(["encrypt", "-r", to.trim()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut decrypt = Command::new(bin)
        .current_dir(&dir)
        .args(["decrypt", "-i", "key.txt"])
        .stdin(encrypt.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = encrypt.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let block = plaintext(1 << 20);
        for _ in 0..256 {
            input.write_all(&block).unwrap();
        }
    });
    let pid = decrypt.id();
    let mut output = decrypt.stdout.take().unwrap();
    let (mut total, mut buf, mut peak_kib) = (0usize, vec![0u8; 1 << 16], 0u64);
    loop {
        let n = output.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n;
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            let hwm = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| v.trim().trim_end_matches(" kB"));
            peak_kib = peak_kib.max(hwm.and_then(|v| v.parse().ok()).unwrap_or(0));
        }
    }
    feeder.join().unwrap();
    assert!(encrypt.wait().unwrap().success() && decrypt.wait().unwrap().success());
    assert_eq!(total, 256 << 20);
    eprintln!("decrypting 256 MiB: peak resident memory {peak_kib} KiB");
    assert!(peak_kib > 0 && peak_kib < 32 * 1024, "peak resident memory {peak_kib} KiB");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-o` naming a device or a pipe writes into it; it never replaces it with a file (as a
/// temporary file renamed over `-o /dev/null` would). Tested on a named pipe of its own.
#[test]
fn output_to_a_pipe_writes_into_it() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempdir("device");
    ok(&strongroom(&dir, &["keygen", "-o", "key.txt"], b""));
    let to = String::from_utf8(ok(&strongroom(&dir, &["keygen", "-y", "key.txt"], b"")).stdout.clone()).unwrap();
    assert!(Command::new("mkfifo").arg(dir.join("pipe")).status().unwrap().success());
    let pipe = dir.join("pipe");
    let reader = std::thread::spawn(move || std::fs::read(pipe).unwrap());
    ok(&strongroom(&dir, &["encrypt", "-r", to.trim(), "-o", "pipe"], b"through the pipe"));
    let sealed = reader.join().unwrap();
    assert!(std::fs::metadata(dir.join("pipe")).unwrap().file_type().is_fifo(), "the pipe was replaced");
    assert_eq!(ok(&strongroom(&dir, &["decrypt", "-i", "key.txt"], &sealed)).stdout, b"through the pipe");
    std::fs::remove_dir_all(&dir).unwrap();
}
