//! `strongroom kem`: keygen, encapsulate and decapsulate end to end for every algorithm, the
//! secret files' modes, implicit rejection, and clear errors (exit 3) for malformed input.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn strongroom(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strongroom")).current_dir(dir).args(args).output().expect("the binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited, not killed")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn keygen_encapsulate_decapsulate_for_every_algorithm() {
    for (alg, seed_len, pk_len, ct_len) in [
        ("ml-kem-512", 64, 800, 768),
        ("ml-kem-768", 64, 1184, 1088),
        ("ml-kem-1024", 64, 1568, 1568),
        ("x-wing", 32, 1216, 1120),
    ] {
        let dir = std::env::temp_dir().join(format!("strongroom-kem-{alg}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| strongroom(&dir, &[&["kem", args[0], "--alg", alg], &args[1..]].concat());
        let mode_and_len = |name: &str| {
            let meta = std::fs::metadata(dir.join(name)).unwrap();
            (meta.len(), meta.permissions().mode() & 0o777)
        };

        let keygen = run(&["keygen", "--secret-key", "sk", "--public-key", "pk"]);
        assert_eq!(code(&keygen), 0, "{keygen:?}");
        assert_eq!(mode_and_len("sk"), (seed_len, 0o600));
        assert_eq!(std::fs::read(dir.join("pk")).unwrap().len(), pk_len);
        // keygen never overwrites a secret key.
        assert_eq!(code(&run(&["keygen", "--secret-key", "sk", "--public-key", "pk2"])), 3);

        let encaps = run(&["encapsulate", "--public-key", "pk", "--ciphertext", "ct", "--shared-secret", "ss1"]);
        assert_eq!(code(&encaps), 0, "{encaps:?}");
        assert_eq!(mode_and_len("ss1"), (32, 0o600));
        assert_eq!(std::fs::read(dir.join("ct")).unwrap().len(), ct_len);
        let decaps = run(&["decapsulate", "--secret-key", "sk", "--ciphertext", "ct", "--shared-secret", "ss2"]);
        assert_eq!(code(&decaps), 0, "{decaps:?}");
        assert_eq!(mode_and_len("ss2"), (32, 0o600));
        assert_eq!(std::fs::read(dir.join("ss1")).unwrap(), std::fs::read(dir.join("ss2")).unwrap());
        // The shared secret is never written over an existing file.
        let exists = run(&["decapsulate", "--secret-key", "sk", "--ciphertext", "ct", "--shared-secret", "ss2"]);
        assert_eq!(code(&exists), 3, "{exists:?}");

        // A tampered ciphertext decapsulates, to another secret (implicit rejection).
        let mut ct = std::fs::read(dir.join("ct")).unwrap();
        ct[0] ^= 1;
        std::fs::write(dir.join("tampered"), &ct).unwrap();
        let rejected =
            run(&["decapsulate", "--secret-key", "sk", "--ciphertext", "tampered", "--shared-secret", "ss3"]);
        assert_eq!(code(&rejected), 0, "{rejected:?}");
        assert_ne!(std::fs::read(dir.join("ss1")).unwrap(), std::fs::read(dir.join("ss3")).unwrap());

        // A truncated ciphertext, a public key that fails the modulus check, a seed file of
        // the wrong length: clear errors, exit 3.
        std::fs::write(dir.join("short"), &ct[1..]).unwrap();
        let short = run(&["decapsulate", "--secret-key", "sk", "--ciphertext", "short", "--shared-secret", "ss4"]);
        assert_eq!(code(&short), 3, "{short:?}");
        assert!(stderr(&short).contains(&format!("ciphertext is {ct_len} bytes, not {}", ct_len - 1)), "{short:?}");
        std::fs::write(dir.join("ff"), vec![0xFF; pk_len]).unwrap();
        let unreduced = run(&["encapsulate", "--public-key", "ff", "--ciphertext", "c5", "--shared-secret", "ss5"]);
        assert_eq!(code(&unreduced), 3, "{unreduced:?}");
        assert!(stderr(&unreduced).contains("modulus check"), "{unreduced:?}");
        std::fs::write(dir.join("sk-short"), vec![1u8; seed_len as usize - 1]).unwrap();
        let bad = run(&["decapsulate", "--secret-key", "sk-short", "--ciphertext", "ct", "--shared-secret", "ss6"]);
        assert_eq!(code(&bad), 3);
        assert!(stderr(&bad).contains(&format!("{seed_len} bytes, this file has {}", seed_len - 1)), "{bad:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let usage =
        strongroom(Path::new("."), &["kem", "keygen", "--alg", "ml-kem-99", "--secret-key", "a", "--public-key", "b"]);
    assert_eq!(code(&usage), 2);
}
