//! The editor behind the `sedit` binary (src/bin/sedit.rs runs it).
//!
//! Each module has one job: [`text`] holds the document (a gap buffer in protected memory),
//! [`history`] undo and redo, [`editor`] what keys do, [`view`] drawing, [`glyphs`] chars to
//! columns, [`document`] the file (formats, passphrases, atomic saves), [`terminal`] the
//! terminal (protected output, wiping, restoring), [`wipe_alloc`] the binary's allocator.

pub mod document;
pub mod editor;
pub mod glyphs;
pub mod history;
pub mod terminal;
pub mod text;
pub mod view;
pub mod wipe_alloc;
