//! `strongroom sig`: keygen, sign and verify end to end, with verify's exit codes (0 valid,
//! 1 invalid, 2 usage, 3 other errors) and the secret-key file's mode.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn strongroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strongroom")).current_dir(dir).args(args).output().expect("the binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

#[test]
fn keygen_sign_verify_for_every_parameter_set() {
    for alg in ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"] {
        let dir = std::env::temp_dir().join(format!("strongroom-sig-{alg}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("msg"), b"release 1.0").unwrap();
        let keygen = strongroom(&dir, &["sig", "keygen", "--alg", alg, "--secret-key", "sk", "--public-key", "pk"]);
        assert_eq!(code(&keygen), 0, "{keygen:?}");
        let meta = std::fs::metadata(dir.join("sk")).unwrap();
        assert_eq!((meta.len(), meta.permissions().mode() & 0o777), (32, 0o600));
        // keygen never overwrites a secret key.
        let again = strongroom(&dir, &["sig", "keygen", "--alg", alg, "--secret-key", "sk", "--public-key", "pk2"]);
        assert_eq!(code(&again), 3, "{again:?}");

        let sign = ["sig", "sign", "--alg", alg, "--secret-key", "sk", "--message", "msg", "--context", "c"];
        assert_eq!(code(&strongroom(&dir, &[&sign[..], &["--signature", "sig"]].concat())), 0);
        let verify = ["sig", "verify", "--alg", alg, "--public-key", "pk", "--signature", "sig"];
        let valid = strongroom(&dir, &[&verify[..], &["--message", "msg", "--context", "c"]].concat());
        assert_eq!(code(&valid), 0, "{valid:?}");
        let wrong_context = strongroom(&dir, &[&verify[..], &["--message", "msg", "--context", "d"]].concat());
        assert_eq!(code(&wrong_context), 1, "{wrong_context:?}");
        std::fs::write(dir.join("other"), b"release 1.1").unwrap();
        let wrong_message = strongroom(&dir, &[&verify[..], &["--message", "other", "--context", "c"]].concat());
        assert_eq!(code(&wrong_message), 1, "{wrong_message:?}");
        // A truncated signature is malformed (3), an unknown algorithm a usage error (2).
        let sig = std::fs::read(dir.join("sig")).unwrap();
        std::fs::write(dir.join("short"), &sig[..sig.len() - 1]).unwrap();
        let short = ["sig", "verify", "--alg", alg, "--public-key", "pk", "--signature", "short", "--message", "msg"];
        let malformed = strongroom(&dir, &short);
        assert_eq!(code(&malformed), 3, "{malformed:?}");
        assert!(String::from_utf8_lossy(&malformed.stderr).contains("signature is"), "{malformed:?}");
        let usage =
            strongroom(&dir, &["sig", "verify", "--alg", "ml-dsa-99", "--public-key", "pk", "--signature", "sig"]);
        assert_eq!(code(&usage), 2);
        // A secret-key file of another length is refused with its figures.
        std::fs::write(dir.join("sk31"), [1u8; 31]).unwrap();
        let bad = strongroom(
            &dir,
            &["sig", "sign", "--alg", alg, "--secret-key", "sk31", "--message", "msg", "--signature", "x"],
        );
        assert_eq!(code(&bad), 3);
        assert!(String::from_utf8_lossy(&bad.stderr).contains("32 bytes, this file has 31"), "{bad:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Commands that hold secret keys harden themselves: while `sig sign` waits for its message
/// on stdin, it is non-dumpable, which the kernel shows by handing its `/proc/PID/mem` to
/// root. The control: the same user's ordinary process (`cat`, waiting the same way) keeps it.
#[test]
fn sig_sign_runs_hardened() {
    use std::io::Write;
    use std::os::unix::fs::MetadataExt;
    use std::process::Stdio;

    // As root every /proc file is root's; as another user the ownership shows dumpability.
    let unprivileged = euid() != 0;
    let dir = std::env::temp_dir().join(format!("strongroom-sig-harden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keygen = strongroom(&dir, &["sig", "keygen", "--alg", "ml-dsa-44", "--secret-key", "sk", "--public-key", "pk"]);
    assert_eq!(code(&keygen), 0, "{keygen:?}");
    let wrapper: &[&str] =
        if unprivileged { &[] } else { &["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] };
    if !unprivileged {
        // nobody must be able to read the key it signs with, and write the signature.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        std::os::unix::fs::chown(dir.join("sk"), Some(65534), Some(65534)).unwrap();
    }
    let spawn = |program: &str, args: &[&str]| {
        let mut all: Vec<&str> = wrapper.to_vec();
        all.push(program);
        all.extend_from_slice(args);
        Command::new(all[0])
            .args(&all[1..])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let owner_of_mem = |pid: u32| {
        // Give the child a moment to reach its read of stdin (it hardens before that).
        for _ in 0..200 {
            std::thread::sleep(std::time::Duration::from_millis(10));
            if let Ok(meta) = std::fs::metadata(format!("/proc/{pid}/mem"))
                && (meta.uid() == 0 || !unprivileged && meta.uid() == 65534)
            {
                return meta.uid();
            }
        }
        u32::MAX
    };
    let mut control = spawn("cat", &[]);
    let control_owner = owner_of_mem(control.id());
    drop(control.stdin.take());
    control.wait().unwrap();
    let bin = env!("CARGO_BIN_EXE_strongroom");
    let mut signer = spawn(bin, &["sig", "sign", "--alg", "ml-dsa-44", "--secret-key", "sk", "--signature", "sig"]);
    // `setpriv` execs the binary in place, so the pid is the signer's.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let signer_owner = owner_of_mem(signer.id());
    signer.stdin.take().unwrap().write_all(b"message").unwrap();
    let status = signer.wait().unwrap();
    assert!(status.success(), "the signer failed: {status}");
    if unprivileged && control_owner == 0 {
        // Cannot tell here: even the control is root's. Said past libtest's output capture.
        let _ =
            writeln!(std::io::stderr(), "SKIPPED sig_sign_runs_hardened: /proc/PID/mem is root's even for the control");
        return;
    }
    assert_ne!(control_owner, 0, "the control: an ordinary process keeps its /proc/PID/mem");
    assert_eq!(signer_owner, 0, "sig sign did not make itself non-dumpable");
}

/// The effective uid, from /proc.
fn euid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    uids.split_whitespace().nth(2).unwrap().parse().unwrap()
}
