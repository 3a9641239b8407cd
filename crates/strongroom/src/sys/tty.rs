//! Reading from the controlling terminal with echo off (termios(3)).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};

/// Whether `error`, from [`NoEcho::open`], means the process has no terminal to read from:
/// no controlling terminal (`ENXIO` from opening `/dev/tty`, as in CI or under a service
/// manager), no `/dev/tty` at all (`ENOENT`, some containers), or a `/dev/tty` that is not a
/// terminal (`ENOTTY` from `tcgetattr`).
pub(crate) fn is_no_terminal(error: &io::Error) -> bool {
    use rustix::io::Errno;
    let no_terminal = [Errno::NXIO, Errno::NOENT, Errno::NOTTY].map(Errno::raw_os_error);
    error.raw_os_error().is_some_and(|code| no_terminal.contains(&code))
}

/// The controlling terminal with echo switched off until [`NoEcho::finish`] or drop.
pub(crate) struct NoEcho {
    tty: File,
    saved: Termios,
    restored: bool,
}

impl NoEcho {
    /// Opens `/dev/tty`, turns echo off (keeping line editing, and echoing the final newline
    /// so the cursor moves on), then writes `prompt`. Echo goes off first, as in getpass(3):
    /// what is typed once the prompt shows is never echoed, and the flush discards only what
    /// was typed before it.
    pub(crate) fn open(prompt: &str) -> io::Result<Self> {
        let tty = OpenOptions::new().read(true).write(true).open("/dev/tty")?;
        let saved = tcgetattr(&tty)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(&tty, OptionalActions::Flush, &quiet)?;
        // From here on, dropping `this` restores the terminal, also if the prompt fails.
        let mut this = NoEcho { tty, saved, restored: false };
        this.tty.write_all(prompt.as_bytes())?;
        this.tty.flush()?;
        Ok(this)
    }

    /// The terminal to read the line from.
    pub(crate) fn reader(&self) -> &File {
        &self.tty
    }

    /// Restores the terminal's settings.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        self.restored = true;
        tcsetattr(&self.tty, OptionalActions::Now, &self.saved).map_err(Into::into)
    }
}

impl Drop for NoEcho {
    fn drop(&mut self) {
        if !self.restored {
            let _ = tcsetattr(&self.tty, OptionalActions::Now, &self.saved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_controlling_terminal_is_told_apart_from_other_failures() {
        use rustix::io::Errno;
        assert!(is_no_terminal(&Errno::NXIO.into()), "ENXIO: no controlling terminal");
        assert!(is_no_terminal(&Errno::NOTTY.into()));
        assert!(!is_no_terminal(&Errno::INTR.into()), "an interrupted read is not a missing terminal");
        assert!(!is_no_terminal(&io::Error::other("unrelated")));
    }
}
