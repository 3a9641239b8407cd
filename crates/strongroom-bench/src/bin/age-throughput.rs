//! `strongroom encrypt | decrypt` against the `age` binary on a 1 GiB file (X25519
//! recipient), interleaved: each repeat runs all four commands, and the per-repeat ratios
//! are kept, so drift on a noisy VM hits both sides alike. Wall time and peak resident
//! memory come from GNU time; files live in /dev/shm, so the disk is not measured.
//!
//! ```sh
//! cargo build --release -p strongroom-cli
//! cargo run --release -p strongroom-bench --bin age-throughput -- [repeats=5] [MiB=1024]
//! ```
//!
//! Needs `age`, `age-keygen` and `/usr/bin/time` (Debian: age, time).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs `program args` with stdin from `input` and stdout to `output`; returns (seconds, peak KiB).
fn timed(program: &Path, args: &[&str], input: &Path, output: &Path) -> (f64, u64) {
    let report = output.with_extension("time");
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "-o"])
        .arg(&report)
        .arg(program)
        .args(args)
        .stdin(std::fs::File::open(input).expect("input"))
        .stdout(std::fs::File::create(output).expect("output"))
        .stderr(Stdio::inherit())
        .status()
        .expect("GNU time runs");
    assert!(status.success(), "{} {args:?} failed", program.display());
    let text = std::fs::read_to_string(&report).expect("time's report");
    let mut fields = text.split_whitespace();
    let seconds = fields.next().and_then(|s| s.parse().ok()).expect("seconds");
    let kib = fields.next().and_then(|s| s.parse().ok()).expect("KiB");
    (seconds, kib)
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let mib: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(1024);
    let exe = std::env::current_exe().expect("own path");
    let strongroom = exe.with_file_name("strongroom");
    assert!(strongroom.exists(), "{} is missing: cargo build --release -p strongroom-cli", strongroom.display());
    let age = PathBuf::from("age");
    let dir = PathBuf::from(format!("/dev/shm/strongroom-age-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory in /dev/shm");
    let plain = dir.join("plain");
    {
        use std::io::Write;
        let mut block = vec![0u8; 1 << 20];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for b in &mut block {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *b = state as u8;
        }
        let mut file = std::io::BufWriter::new(std::fs::File::create(&plain).expect("plaintext"));
        for _ in 0..mib {
            file.write_all(&block).expect("plaintext");
        }
    }
    let identity = dir.join("key.txt");
    let out = Command::new("age-keygen").arg("-o").arg(&identity).output().expect("age-keygen runs");
    assert!(out.status.success());
    let recipient = std::fs::read_to_string(&identity)
        .expect("identity")
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_owned))
        .expect("public key line");
    let id = identity.to_str().expect("utf-8 path");
    let (ours_sealed, theirs_sealed) = (dir.join("ours.age"), dir.join("theirs.age"));
    let (ours_opened, theirs_opened) = (dir.join("ours.out"), dir.join("theirs.out"));
    let (mut enc_ratio, mut dec_ratio) = (Vec::new(), Vec::new());
    let (mut ours_enc, mut theirs_enc, mut ours_dec, mut theirs_dec) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut ours_rss, mut theirs_rss) = (0u64, 0u64);
    for round in 0..repeats {
        // Alternate who goes first, so warm caches favour neither.
        let order = if round % 2 == 0 { [true, false] } else { [false, true] };
        let mut enc = [0.0; 2];
        for mine in order {
            let (program, sealed) = if mine { (&strongroom, &ours_sealed) } else { (&age, &theirs_sealed) };
            let (s, kib) = timed(program, &["encrypt", "-r", &recipient][usize::from(!mine)..], &plain, sealed);
            enc[usize::from(!mine)] = s;
            if mine { ours_rss = ours_rss.max(kib) } else { theirs_rss = theirs_rss.max(kib) }
        }
        let mut dec = [0.0; 2];
        for mine in order {
            let (program, sealed, opened) =
                if mine { (&strongroom, &ours_sealed, &ours_opened) } else { (&age, &theirs_sealed, &theirs_opened) };
            let args: &[&str] = if mine { &["decrypt", "-i", id] } else { &["-d", "-i", id] };
            let (s, kib) = timed(program, args, sealed, opened);
            dec[usize::from(!mine)] = s;
            if mine { ours_rss = ours_rss.max(kib) } else { theirs_rss = theirs_rss.max(kib) }
        }
        assert_eq!(std::fs::metadata(&ours_opened).unwrap().len(), (mib as u64) << 20);
        ours_enc.push(enc[0]);
        theirs_enc.push(enc[1]);
        ours_dec.push(dec[0]);
        theirs_dec.push(dec[1]);
        enc_ratio.push(enc[1] / enc[0]);
        dec_ratio.push(dec[1] / dec[0]);
        eprintln!(
            "round {round}: encrypt {:.2} s vs age {:.2} s; decrypt {:.2} s vs age {:.2} s",
            enc[0], enc[1], dec[0], dec[1]
        );
    }
    let gb = (mib as f64) / 1024.0;
    println!("{mib} MiB, {repeats} interleaved rounds (medians):");
    println!(
        "  encrypt: strongroom {:.2} s ({:.2} GiB/s), age {:.2} s ({:.2} GiB/s): strongroom {:.2}x age's throughput",
        median(ours_enc.clone()),
        gb / median(ours_enc),
        median(theirs_enc.clone()),
        gb / median(theirs_enc),
        median(enc_ratio)
    );
    println!(
        "  decrypt: strongroom {:.2} s ({:.2} GiB/s), age {:.2} s ({:.2} GiB/s): strongroom {:.2}x age's throughput",
        median(ours_dec.clone()),
        gb / median(ours_dec),
        median(theirs_dec.clone()),
        gb / median(theirs_dec),
        median(dec_ratio)
    );
    println!("  peak resident memory: strongroom {ours_rss} KiB, age {theirs_rss} KiB");
    std::fs::remove_dir_all(&dir).expect("clean up");
}
