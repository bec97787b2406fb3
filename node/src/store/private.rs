//! The data directory is private: it holds victims' names. It is created with mode 0700, its
//! files are kept 0600 whatever the umask, and a directory that others may read is refused
//! with the command that fixes it (as the key file is warned about).

use std::path::Path;

use super::StoreError;

/// Creates `dir` (mode 0700) when it does not exist; refuses an existing one that the group or
/// others may read, write or enter.
pub(super) fn prepare(dir: &Path) -> Result<(), StoreError> {
    let refuse = |reason: String| StoreError::Open {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        return builder
            .create(dir)
            .map_err(|e| refuse(format!("cannot create it: {e}")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir)
            .map_err(|e| refuse(format!("cannot read its permissions: {e}")))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(refuse(format!(
                "others may read it (mode {:04o}), and it holds intelligence and victims' \
                 names; make it private with `chmod -R go-rwx {}` and start again",
                mode & 0o7777,
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Gives every file below `dir` mode 0600 and every directory 0700, for files made before the
/// process set its umask (or by another tool). A failure is logged, not fatal: the directory
/// itself is private already.
pub(super) fn tighten(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            let want = if meta.is_dir() { 0o700 } else { 0o600 };
            if meta.permissions().mode() & 0o777 != want
                && let Err(e) =
                    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(want))
            {
                tracing::warn!(path = %path.display(), error = %e, "cannot make a store file private");
            }
            if meta.is_dir() {
                tighten(&path);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Makes every file this process creates from now on private to its user (umask 077): sled
/// writes new files (snapshots, blobs) while the node runs. Files meant for others get their
/// mode set explicitly (`files::create_new`).
pub fn private_umask() {
    #[cfg(unix)]
    {
        let _ = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    }
}
