//! age v1 (C2SP age specification): the header, so far.

pub(crate) mod header;
