//! Size classes: the slot sizes a pool arena is carved into.
//!
//! Classes are multiples of 16 bytes (the canary granule), spaced so that no allocation
//! wastes more than a third of its slot. Anything larger than [`MAX_POOLED`] goes to the
//! guarded policy, where one page more or less no longer matters.

/// Slot sizes in bytes; every one a multiple of 16.
pub(crate) const CLASS_SIZES: [usize; 14] = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048];

/// Number of size classes.
pub(crate) const CLASSES: usize = CLASS_SIZES.len();

/// The largest allocation the pool serves.
pub(crate) const MAX_POOLED: usize = CLASS_SIZES[CLASSES - 1];

/// Class index for each size rounded up to 16, indexed by `size.div_ceil(16)`.
const LOOKUP: [u8; MAX_POOLED / 16 + 1] = {
    let mut table = [0u8; MAX_POOLED / 16 + 1];
    let mut granules = 0;
    let mut class = 0;
    while granules < table.len() {
        while CLASS_SIZES[class] < granules * 16 {
            class += 1;
        }
        table[granules] = class as u8;
        granules += 1;
    }
    table
};

/// The class that holds `size` bytes, `None` above [`MAX_POOLED`]. Size 0 gets the smallest.
pub(crate) fn class_of(size: usize) -> Option<usize> {
    LOOKUP.get(size.div_ceil(16)).map(|&c| usize::from(c))
}

/// `size` rounded up to the 16-byte granule the pool places data on.
pub(crate) fn granule_round(size: usize) -> usize {
    size.div_ceil(16) * 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_gets_the_smallest_class_that_fits() {
        for size in 0..=MAX_POOLED {
            let class = class_of(size).unwrap();
            assert!(CLASS_SIZES[class] >= size, "size {size} in class {}", CLASS_SIZES[class]);
            assert!(
                class == 0 || CLASS_SIZES[class - 1] < granule_round(size),
                "size {size} could use a smaller class"
            );
        }
        assert_eq!(class_of(MAX_POOLED + 1), None);
        assert_eq!(class_of(usize::MAX), None);
    }

    #[test]
    fn classes_are_granule_multiples_in_ascending_order() {
        assert!(CLASS_SIZES.windows(2).all(|w| w[0] < w[1]));
        assert!(CLASS_SIZES.iter().all(|c| c % 16 == 0));
    }
}
