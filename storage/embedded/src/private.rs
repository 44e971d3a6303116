//! The data directory is its owner's only: folders 0700, files 0600.
//!
//! [`make_private`] creates a directory so and walks what it holds, tightening
//! what an older install (or a looser umask) left readable by others. Files the
//! engines create later inherit the process umask: the `caliopen` binary sets it
//! to 077 at start, so they are born private.

use std::io;
use std::path::Path;

/// Creates `dir` (mode 0700) if missing, and makes every folder under it 0700 and
/// every file 0600. Symbolic links are left alone (neither followed nor changed).
pub fn make_private(dir: &Path) -> io::Result<()> {
    create_private_dir(dir)?;
    tighten(dir)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn tighten(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let meta = std::fs::symlink_metadata(path)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Ok(());
    }
    let wanted = if kind.is_dir() { 0o700 } else { 0o600 };
    if meta.permissions().mode() & 0o777 != wanted {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted))?;
    }
    if kind.is_dir() {
        for entry in std::fs::read_dir(path)? {
            match tighten(&entry?.path()) {
                // Removed meanwhile (an engine's temporary file): nothing to do.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn tighten(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn an_older_install_is_made_private() {
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir_all(data.join("store/kv")).unwrap();
        std::fs::write(data.join("store/kv/journal"), b"x").unwrap();
        std::fs::write(data.join("admin.token"), b"x").unwrap();
        for (path, m) in [
            (data.clone(), 0o755),
            (data.join("store/kv"), 0o777),
            (data.join("store/kv/journal"), 0o644),
            (data.join("admin.token"), 0o666),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(m)).unwrap();
        }
        make_private(&data).unwrap();
        for dir in [&data, &data.join("store"), &data.join("store/kv")] {
            assert_eq!(mode(dir), 0o700, "{}", dir.display());
        }
        for file in [data.join("store/kv/journal"), data.join("admin.token")] {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        let fresh = root.path().join("fresh/data");
        make_private(&fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
    }
}
