//! Run-time control from outside the process: `lockstep kill` writes a one-line request
//! into a file beside the session's journal (`<journal>.control`, written to a temporary
//! name and renamed, so the driver never reads half of it); the driver takes it (reads and
//! deletes it) and feeds the matching command to the loop as a journaled input.

use crate::health::Control;
use std::path::{Path, PathBuf};

/// The control file of the journal at `journal`.
pub fn control_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".control");
    PathBuf::from(name)
}

/// The text a request is written as.
pub fn control_text(c: Control) -> &'static str {
    match c {
        Control::Kill { flatten: false } => "kill",
        Control::Kill { flatten: true } => "kill --flatten",
        Control::Lift => "lift",
    }
}

/// Why a request could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ControlError {
    /// The file.
    pub path: String,
    /// What failed.
    pub source: std::io::Error,
}

/// Writes request `c` for the session journaling into `journal` (replacing one not yet
/// taken). The session takes it within a second of its clock's polling.
pub fn write_request(journal: &Path, c: Control) -> Result<PathBuf, ControlError> {
    let path = control_path(journal);
    let tmp = {
        let mut t = path.as_os_str().to_owned();
        t.push(".tmp");
        PathBuf::from(t)
    };
    let err = |p: &Path, source| ControlError {
        path: p.display().to_string(),
        source,
    };
    std::fs::write(&tmp, control_text(c)).map_err(|e| err(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| err(&path, e))?;
    Ok(path)
}

/// Takes the pending request, if any: `Ok(None)` when there is none, `Err(text)` for a
/// file that holds no request (it is removed too, and the text journaled by the caller).
pub fn take_request(path: &Path) -> Result<Option<Control>, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let _ = std::fs::remove_file(path);
    match text.trim() {
        "kill" => Ok(Some(Control::Kill { flatten: false })),
        "kill --flatten" => Ok(Some(Control::Kill { flatten: true })),
        "lift" => Ok(Some(Control::Lift)),
        other => Err(format!(
            "{}: `{}` is not a request (kill, kill --flatten, lift)",
            path.display(),
            other.chars().take(80).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_taken_once_and_bad_text_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let journal = dir.path().join("journal.db");
        let path = control_path(&journal);
        assert!(path.ends_with("journal.db.control"));
        assert_eq!(take_request(&path), Ok(None));
        for c in [
            Control::Kill { flatten: true },
            Control::Kill { flatten: false },
            Control::Lift,
        ] {
            write_request(&journal, c).expect("write");
            assert_eq!(take_request(&path), Ok(Some(c)));
            assert_eq!(take_request(&path), Ok(None), "taken once");
        }
        std::fs::write(&path, "flatten everything").expect("write");
        let err = take_request(&path).expect_err("not a request");
        assert!(err.contains("is not a request"), "{err}");
        assert!(!path.exists());
    }
}
