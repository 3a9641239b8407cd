//! Holds N live 32-byte secrets and prints what they cost.
//!
//! `cargo run --release --example scale -- 1000000`
//! Under the default 8 MiB locked-memory limit, without privilege:
//! `prlimit --memlock=8388608 setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock target/release/examples/scale 100000`

use std::time::Instant;

use strongroom::SecretBox;

fn main() -> Result<(), strongroom::Error> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let start = Instant::now();
    let mut secrets = Vec::with_capacity(n);
    for i in 0..n {
        secrets.push(SecretBox::new(|k: &mut [u8; 32]| k.fill(i as u8))?);
    }
    let made = start.elapsed();
    let stats = strongroom::pool::stats();
    let start = Instant::now();
    drop(secrets);
    let freed = start.elapsed();
    println!("live 32-byte secrets : {n}");
    println!("arenas               : {}", stats.arenas);
    println!("locked bytes         : {} ({:.1} per secret)", stats.locked_bytes, stats.locked_bytes as f64 / n as f64);
    println!("protections          : {:?}", strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(0))?.protections());
    println!("create               : {:.1} ns per secret (arena mapping included)", made.as_nanos() as f64 / n as f64);
    println!("drop                 : {:.1} ns per secret", freed.as_nanos() as f64 / n as f64);
    Ok(())
}
