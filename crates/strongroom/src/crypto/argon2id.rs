//! Argon2id (RFC 9106, version 0x13) over work memory the caller provides.
//!
//! RustCrypto's `argon2` would otherwise allocate its 64 MiB (or more) of password-derived
//! state on the heap and free it unwiped; here it fills memory strongroom mapped (out of
//! dumps, wiped after use, locked where the limit allows).

use argon2::{Algorithm, Argon2, AssociatedData, Block, ParamsBuilder, Version};

use crate::error::{Error, Result};

/// Argon2id's cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Memory in KiB (one 1 KiB block each).
    pub(crate) memory_kib: u32,
    /// Passes over the memory.
    pub(crate) iterations: u32,
    /// Lanes.
    pub(crate) parallelism: u32,
}

/// Derives `out.len()` bytes into `out`, using `memory` (exactly `memory_kib` KiB, aligned
/// to 64 bytes) as Argon2's block memory. `secret` and `ad` are Argon2's optional inputs
/// K and X (empty for plain password hashing).
pub(crate) fn derive(
    password: &[u8],
    salt: &[u8],
    secret: &[u8],
    ad: &[u8],
    cost: Cost,
    memory: &mut [u8],
    out: &mut [u8],
) -> Result<()> {
    let invalid = |_| Error::InvalidParameters("Argon2id refused its parameters");
    let mut builder = ParamsBuilder::new();
    builder.m_cost(cost.memory_kib).t_cost(cost.iterations).p_cost(cost.parallelism).output_len(out.len());
    if !ad.is_empty() {
        builder.data(AssociatedData::new(ad).map_err(invalid)?);
    }
    let params = builder.build().map_err(invalid)?;
    let argon2 = if secret.is_empty() {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    } else {
        Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params).map_err(invalid)?
    };
    let blocks = as_blocks(memory, cost.memory_kib)?;
    argon2
        .hash_password_into_with_memory(password, salt, out, blocks)
        .map_err(|_| Error::Internal("Argon2id failed after accepting its parameters"))
}

/// Views `memory` as Argon2 blocks, after checking its size and alignment.
fn as_blocks(memory: &mut [u8], memory_kib: u32) -> Result<&mut [Block]> {
    const _: () = assert!(size_of::<Block>() == Block::SIZE && Block::SIZE == 1024 && align_of::<Block>() == 64);
    let blocks = memory_kib as usize;
    if memory.len() != blocks * Block::SIZE || !memory.as_ptr().addr().is_multiple_of(align_of::<Block>()) {
        return Err(Error::Internal("Argon2 work memory has the wrong size or alignment"));
    }
    // SAFETY: `memory` is exactly `blocks` × 1024 bytes, aligned to 64 (checked above), and
    // exclusively borrowed for the result's lifetime. A Block is 128 u64 words (1024 bytes,
    // align 64, no padding: asserted at compile time), for which every bit pattern is valid.
    Ok(unsafe { std::slice::from_raw_parts_mut(memory.as_mut_ptr().cast::<Block>(), blocks) })
}
