//! A file replaced whole or not at all: written beside its target, then renamed over it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// How many fresh names `create` tries when one is taken (each is 48 random bits: a clash
/// means someone else made that very name).
const NAME_ATTEMPTS: usize = 4;

/// A file that replaces `target` whole or not at all.
///
/// [`create`](Self::create) makes a temporary file beside the target, named
/// `.NAME.RANDOM.tmp` (12 hex digits from the OS random number generator), created
/// exclusively (never over an existing file or a symlink) and, on Unix, with mode 0600. What
/// is written goes there; [`commit`](Self::commit) flushes it to disk, renames it over the
/// target (an atomic replacement: a reader, or a crash at any moment, sees the old file or
/// the new one, never a mix or a part) and then flushes the directory, so that the rename
/// itself survives a power cut. Dropping an `AtomicFile` that was not committed removes the
/// temporary file and leaves the target as it was.
///
/// The new file is always a new inode: it has mode 0600 and the writer's owner, whatever the
/// old file had (the old file's mode, owner and hard links are not carried over), and a
/// target that is a symbolic link is replaced by the file, not written through. A process
/// killed before `commit` (SIGKILL, a crash) cannot run the drop: its temporary file stays
/// behind, beside the untouched target.
///
/// Platform differences: on Unix the temporary file is created with mode 0600 and `commit`
/// syncs the directory after the rename. On Windows the file gets the directory's inherited
/// ACL (there is no mode), and the directory is not synced (Windows cannot open a directory
/// as a `File`; NTFS journals the rename), so a rename that completed just before a power cut
/// may be lost there, leaving the old file; it is still never a mix of the two.
///
/// ```
/// use std::io::Write;
/// use strongroom::AtomicFile;
///
/// let dir = std::env::temp_dir().join(format!("atomic-file-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let target = dir.join("notes.txt");
/// std::fs::write(&target, b"old")?;
///
/// let mut file = AtomicFile::create(&target)?;
/// file.write_all(b"new ")?;
/// file.write_all(b"contents")?;
/// assert_eq!(std::fs::read(&target)?, b"old", "nothing shows before the commit");
/// file.commit()?;
/// assert_eq!(std::fs::read(&target)?, b"new contents");
///
/// let mut abandoned = AtomicFile::create(&target)?;
/// abandoned.write_all(b"half a thought")?;
/// drop(abandoned); // never committed: the temporary file goes, the target stays
/// assert_eq!(std::fs::read(&target)?, b"new contents");
/// assert_eq!(std::fs::read_dir(&dir)?.count(), 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct AtomicFile {
    /// The open temporary file; `None` once committed.
    file: Option<File>,
    /// The temporary file's path; empty once renamed over the target.
    temporary: PathBuf,
    /// The file this replaces.
    target: PathBuf,
}

impl AtomicFile {
    /// Creates the temporary file beside `target` (which need not exist). Errors are the
    /// OS's: a missing or read-only directory, no space, a target path without a file name
    /// ([`io::ErrorKind::InvalidInput`]).
    ///
    /// ```
    /// use strongroom::AtomicFile;
    /// let missing = std::env::temp_dir().join("no-such-directory-for-atomic-file/x");
    /// assert!(AtomicFile::create(&missing).is_err());
    /// ```
    pub fn create(target: impl AsRef<Path>) -> io::Result<AtomicFile> {
        let target = target.as_ref();
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{}: not a file name", target.display()))
        })?;
        let mut last_clash = None;
        for _ in 0..NAME_ATTEMPTS {
            let mut suffix = [0u8; 6];
            crate::sys::fill_random(&mut suffix)?;
            let tag: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
            let temporary = target.with_file_name(format!(".{}.{tag}.tmp", name.to_string_lossy()));
            match open_new(&temporary) {
                Ok(file) => return Ok(AtomicFile { file: Some(file), temporary, target: target.to_owned() }),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_clash = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_clash.unwrap_or_else(|| io::ErrorKind::AlreadyExists.into()))
    }

    /// The temporary file's path (until the commit renames it).
    ///
    /// ```
    /// let target = std::env::temp_dir().join("atomic-file-path-doc");
    /// let file = strongroom::AtomicFile::create(&target)?;
    /// let name = file.path().file_name().unwrap().to_string_lossy().into_owned();
    /// assert!(name.starts_with(".atomic-file-path-doc.") && name.ends_with(".tmp"), "{name}");
    /// assert_eq!(file.path().parent(), target.parent());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn path(&self) -> &Path {
        &self.temporary
    }

    /// The file this replaces.
    ///
    /// ```
    /// let target = std::env::temp_dir().join("atomic-file-target-doc");
    /// assert_eq!(strongroom::AtomicFile::create(&target)?.target(), target);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Makes the new contents final: syncs the temporary file to disk, renames it over the
    /// target, then (on Unix) syncs the directory.
    ///
    /// On an error before the rename the temporary file is removed and the target is as it
    /// was. An error from the directory sync comes after the rename: the target holds the
    /// new contents, but they may not survive a power cut.
    ///
    /// ```
    /// use std::io::Write;
    /// let target = std::env::temp_dir().join(format!("atomic-file-commit-doc-{}", std::process::id()));
    /// let mut file = strongroom::AtomicFile::create(&target)?;
    /// file.write_all(b"done")?;
    /// file.commit()?;
    /// assert_eq!(std::fs::read(&target)?, b"done");
    /// # std::fs::remove_file(&target)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().ok_or_else(|| io::Error::other("the atomic file is already committed"))?;
        file.sync_all()?;
        // Closed before the rename: Windows does not rename a file that is open.
        drop(file);
        fs::rename(&self.temporary, &self.target)?;
        self.temporary = PathBuf::new();
        sync_directory(&self.target)
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| io::Error::other("the atomic file is already committed"))
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.file()?.write(bytes)
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.file()?.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file()?.flush()
    }
}

impl Drop for AtomicFile {
    /// Not committed: the temporary file is removed and the target is left as it was.
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.temporary.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temporary);
        }
    }
}

/// Creates `path`, which must not exist: owner-only on Unix.
fn open_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Syncs the directory that holds `target`, making a rename in it durable (Unix).
#[cfg(unix)]
fn sync_directory(target: &Path) -> io::Result<()> {
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

/// Windows cannot open a directory as a `File`; NTFS journals the rename itself.
#[cfg(not(unix))]
fn sync_directory(_target: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    /// A fresh directory for one test, removed when dropped.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(name: &str) -> TestDir {
            let dir = std::env::temp_dir().join(format!("strongroom-atomic-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TestDir(dir)
        }

        /// The names in the directory, sorted.
        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> =
                fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            names
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o700));
            }
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn atomic_commit_replaces_the_target_and_leaves_no_temporary_file() {
        let dir = TestDir::new("commit");
        let target = dir.0.join("file");
        fs::write(&target, b"old contents").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        let temporary = file.path().to_owned();
        assert!(temporary.exists());
        for piece in [&b"new "[..], b"con", b"tents"] {
            file.write_all(piece).unwrap();
        }
        file.flush().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"old contents");
        file.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new contents");
        assert!(!temporary.exists());
        assert_eq!(dir.names(), ["file"]);
    }

    #[test]
    fn atomic_commit_creates_a_target_that_did_not_exist() {
        let dir = TestDir::new("fresh");
        let target = dir.0.join("fresh");
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"first").unwrap();
        file.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"first");
        assert_eq!(dir.names(), ["fresh"]);
    }

    #[test]
    fn atomic_drop_without_commit_keeps_the_old_file_and_removes_the_temporary_one() {
        let dir = TestDir::new("drop");
        let target = dir.0.join("file");
        fs::write(&target, b"old").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(&[7; 100_000]).unwrap();
        let temporary = file.path().to_owned();
        drop(file);
        assert_eq!(fs::read(&target).unwrap(), b"old");
        assert!(!temporary.exists());
        assert_eq!(dir.names(), ["file"]);
    }

    #[test]
    fn atomic_temporary_name_is_hidden_random_and_beside_the_target() {
        let dir = TestDir::new("name");
        let target = dir.0.join("notes.sedit");
        let (one, two) = (AtomicFile::create(&target).unwrap(), AtomicFile::create(&target).unwrap());
        assert_ne!(one.path(), two.path());
        for file in [&one, &two] {
            assert_eq!(file.path().parent(), Some(&*dir.0));
            let name = file.path().file_name().unwrap().to_str().unwrap();
            let tag = name.strip_prefix(".notes.sedit.").and_then(|rest| rest.strip_suffix(".tmp")).unwrap();
            assert!(tag.len() == 12 && tag.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
        }
        assert_eq!(one.target(), target);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_new_file_is_owner_only_whatever_the_umask_and_the_old_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TestDir::new("mode");
        let target = dir.0.join("file");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
        let file = AtomicFile::create(&target).unwrap();
        assert_eq!(fs::metadata(file.path()).unwrap().permissions().mode() & 0o777, 0o600);
        file.commit().unwrap();
        assert_eq!(fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn atomic_create_in_a_missing_directory_is_an_io_error() {
        let dir = TestDir::new("missing");
        let err = AtomicFile::create(dir.0.join("not-here/file")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
        assert_eq!(dir.names(), Vec::<String>::new());
    }

    #[test]
    fn atomic_create_of_a_path_without_a_file_name_is_refused() {
        let err = AtomicFile::create(Path::new("/")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    }

    /// A read-only directory refuses the temporary file. Root ignores the mode, so there
    /// the directory is made immutable (`chattr +i`); where neither holds, the test says so.
    #[cfg(unix)]
    #[test]
    fn atomic_create_in_a_read_only_directory_is_an_io_error() {
        use std::os::unix::fs::PermissionsExt;
        use std::process::Command;
        let dir = TestDir::new("read-only");
        let target = dir.0.join("file");
        fs::write(&target, b"old").unwrap();
        fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o500)).unwrap();
        let chattr =
            |flag: &str| Command::new("chattr").arg(flag).arg(&dir.0).output().is_ok_and(|o| o.status.success());
        let probe = dir.0.join("probe");
        let writable = fs::File::create(&probe).is_ok();
        let _ = fs::remove_file(&probe);
        let immutable = writable && chattr("+i");
        if writable && !immutable {
            // Straight to the process's stderr: libtest captures `eprintln!`.
            let _ = io::stderr().lock().write_all(
                b"SKIPPED atomic_create_in_a_read_only_directory_is_an_io_error: \
                  this user writes anywhere and chattr +i failed\n",
            );
            return;
        }
        let outcome = (AtomicFile::create(&target).map(|f| f.path().to_owned()), fs::read(&target));
        if immutable {
            chattr("-i");
        }
        match outcome {
            (Err(e), Ok(old)) => {
                assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
                assert_eq!(old, b"old");
            }
            other => panic!("a read-only directory took a new file: {other:?}"),
        }
        assert_eq!(dir.names(), ["file"]);
    }

    /// A rename that fails (the target is a non-empty directory) leaves the target and no
    /// temporary file.
    #[test]
    fn atomic_failed_rename_removes_the_temporary_file() {
        let dir = TestDir::new("rename");
        let target = dir.0.join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inside"), b"x").unwrap();
        let mut file = AtomicFile::create(&target).unwrap();
        file.write_all(b"data").unwrap();
        assert!(file.commit().is_err());
        assert!(target.join("inside").exists());
        assert_eq!(dir.names(), ["occupied"]);
    }
}
