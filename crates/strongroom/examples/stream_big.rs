//! Encrypts and decrypts N MiB through a file with `strongroom::stream`, and reports the
//! throughput and the process's peak resident memory (which must not grow with N).
//!
//! `cargo run --release -p strongroom --example stream_big -- 256`

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::time::Instant;

use strongroom::aead::Key;
use strongroom::stream::{Decryptor, Encryptor};

/// Peak resident set size (VmHWM) in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(256);
    // tmpfs when there is one, so the figures measure the stream rather than the disk.
    let dir = if std::path::Path::new("/dev/shm").is_dir() { "/dev/shm".into() } else { std::env::temp_dir() };
    let path = dir.join(format!("strongroom-stream-{}.bin", std::process::id()));
    let key = Key::random()?;
    let block = vec![0x5au8; 1 << 20];

    // The stream alone: encrypt into a sink.
    let start = Instant::now();
    let mut enc = Encryptor::new(&key, io::sink())?;
    for _ in 0..mib {
        enc.write_all(&block)?;
    }
    enc.finish()?;
    let to_sink = start.elapsed();

    // A round trip through a file.
    let start = Instant::now();
    let mut enc = Encryptor::new(&key, BufWriter::new(File::create(&path)?))?;
    for _ in 0..mib {
        enc.write_all(&block)?;
    }
    enc.finish()?.flush()?;
    let sealed = start.elapsed();

    let start = Instant::now();
    let mut dec = Decryptor::new(&key, BufReader::new(File::open(&path)?))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0usize;
    loop {
        let n = dec.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n;
    }
    let opened = start.elapsed();
    std::fs::remove_file(&path)?;
    assert_eq!(total, mib << 20);

    let mbps = |d: std::time::Duration| (mib as f64 * 1.048_576) / d.as_secs_f64();
    println!(
        "stream of {mib} MiB: encrypt {:.0} MB/s (into a sink; {:.0} MB/s into a file), decrypt {:.0} MB/s (from the file), peak RSS {} KiB",
        mbps(to_sink),
        mbps(sealed),
        mbps(opened),
        peak_rss_kib()
    );
    io::stdout().flush()?;
    Ok(())
}
