//! Our own executable, and the programs next to it.
//!
//! `/proc/self/exe` names the file that was executed once symlinks are resolved: a thin
//! per-program binary (`target/debug/s6-svscan`), or the multi-call binary `merit` when the
//! program was started through a link `NAME -> merit`. So its *directory* is where our other
//! programs are, never its name.

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

static MULTICALL: AtomicBool = AtomicBool::new(false);

/// Called by the multi-call binary before it runs a program: our executable dispatches on
/// `argv[0]`, so it can run any of our programs itself.
pub fn set_multicall() {
    MULTICALL.store(true, Ordering::Relaxed);
}

/// Whether this process runs the multi-call binary `merit`.
pub fn is_multicall() -> bool {
    MULTICALL.load(Ordering::Relaxed)
}

/// Our own executable (`/proc/self/exe`).
pub fn path() -> Option<PathBuf> {
    path_bytes().map(|b| PathBuf::from(std::ffi::OsString::from_vec(b)))
}

merit_sys::hot! {
    fn path_bytes() -> Option<Vec<u8>> {
        merit_sys::fs::readlink(c"/proc/self/exe").ok()
    }
}

/// The directory of our own executable.
pub fn dir() -> Option<PathBuf> {
    path().and_then(|p| p.parent().map(PathBuf::from))
}

/// What to execute, with `argv[0] = name`, to run our program `name`: the file `name` next to
/// our executable (a thin binary, or a link to `merit`, checked to be the same file); else, when we are the multi-call
/// binary, our own executable (it dispatches on that `argv[0]`). `None`: not ours to find (the
/// caller falls back on PATH).
pub fn sibling(name: &str) -> Option<PathBuf> {
    sibling_c(name).map(|c| PathBuf::from(std::ffi::OsString::from_vec(c.into_bytes())))
}

merit_sys::hot! {
    /// [`sibling`] as a C string, ready for exec. Works on bytes with merit-sys calls only: the
    /// scanner calls it at start, and this keeps what it maps of the binary small.
    pub fn sibling_c(name: &str) -> Option<CString> {
        let exe = path_bytes()?;
        let slash = exe.iter().rposition(|&b| b == b'/')?;
        let mut beside = exe[..=slash].to_vec();
        beside.extend_from_slice(name.as_bytes());
        if let Ok(c) = CString::new(beside) {
            // The multi-call binary only trusts a file that *is* itself (the link `name -> merit`):
            // in a container image, `/bin/init` beside `/bin/merit` may well be busybox's.
            let me = if is_multicall() {
                merit_sys::fs::stat(c"/proc/self/exe").ok().map(|st| (st.dev, st.ino))
            } else {
                None
            };
            if merit_sys::fs::stat(&c).is_ok_and(|st| st.is_file() && (!is_multicall() || me == Some((st.dev, st.ino))))
            {
                return Some(c);
            }
        }
        if is_multicall() {
            return CString::new(exe).ok();
        }
        None
    }
}

/// A path that runs our program `name` *by its name* (for scripts, which cannot choose
/// `argv[0]`), checked to be *our* executable, not merely a file called `name`: in a container
/// image, busybox's `init` may sit next to `merit` (`/bin/init -> busybox`, while the runtime
/// started us as `/sbin/init -> /bin/merit`), and the scripts would then run busybox's `init`
/// for every `"$MERIT_INIT" finish`. In order: the file `name` next to our executable when it
/// is the same file (or, for thin per-program binaries, any file there); `argv0` if it names
/// `name` by a path and is the same file (made absolute); the first `name` on `PATH` that is
/// the same file (how the runtime found us from a bare `init`); our executable itself when its
/// own name is `name` or it is not the multi-call binary. `None`: nothing runs us by that name.
pub fn named(name: &str, argv0: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let exe = path();
    let me = std::fs::metadata("/proc/self/exe").ok().map(|m| (m.dev(), m.ino()));
    let is_me = |p: &std::path::Path| me.is_some() && std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino())) == me;
    let beside = exe.as_ref().and_then(|e| e.parent()).map(|d| d.join(name));
    if let Some(p) = beside.filter(|p| p.is_file() && (is_me(p) || !is_multicall())) {
        return Some(p);
    }
    let a = std::path::Path::new(argv0);
    if a.file_name().is_some_and(|f| f == name) && a.as_os_str().as_encoded_bytes().contains(&b'/') && is_me(a) {
        return if a.is_absolute() { Some(a.to_path_buf()) } else { std::env::current_dir().ok().map(|d| d.join(a)) };
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).filter(|d| d.is_absolute()).map(|d| d.join(name)).find(|p| is_me(p)));
    if on_path.is_some() {
        return on_path;
    }
    exe.filter(|e| !is_multicall() || e.file_name().is_some_and(|f| f == name))
}
