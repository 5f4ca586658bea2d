//! A Mere-style service tree: definitions in `available/`, boot-time symlinks in `enabled/`,
//! supervised copies in the scan directory watched by `s6-svscan`. Every path can be moved under
//! a root prefix, so a whole system can live in a folder.
//!
//! Changes are atomic for concurrent readers: a copy into the scan directory is made under a
//! dot-name (which scanners ignore) and renamed into place; a symlink is made beside its final
//! name and renamed over it; a copy is removed from supervision by renaming it to a dot-name
//! first. Operations on one service are serialised by an fcntl lock in the scan directory.

use crate::svdir;
use std::io::{Error, ErrorKind, Result};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// Mere's defaults.
pub const DEFAULT_SCAN: &str = "/s6/run";
pub const DEFAULT_AVAILABLE: &str = "/etc/s6/services/available";
pub const DEFAULT_ENABLED: &str = "/etc/s6/services/enabled";

/// The three directories of a tree, already joined under the root prefix.
#[derive(Clone, Debug)]
pub struct Tree {
    pub root: PathBuf,
    pub scan: PathBuf,
    pub available: PathBuf,
    pub enabled: PathBuf,
}

/// Names present in the scan and enabled directories (see [`Tree::present`]).
#[derive(Clone, Debug, Default)]
pub struct Present {
    pub scan: std::collections::HashSet<String>,
    pub enabled: std::collections::HashSet<String>,
}

trait FifoOrSocket {
    fn is_fifo_or_socket(&self) -> bool;
}

impl FifoOrSocket for std::fs::FileType {
    fn is_fifo_or_socket(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_fifo() || self.is_socket() || self.is_char_device() || self.is_block_device()
    }
}

/// `root` + `path` (an absolute path is taken relative to the root).
pub fn under(root: &Path, path: &Path) -> PathBuf {
    let rel: PathBuf = path.components().filter(|c| !matches!(c, Component::RootDir)).collect();
    if root.as_os_str().is_empty() {
        Path::new("/").join(rel)
    } else {
        root.join(rel)
    }
}

/// `to` expressed relative to the directory `from` (both absolute or both relative).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(t.iter()).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Whether `link` exists (`Ok(true)`: as a symbolic link; `Ok(false)`: not at all); an error
/// naming what it is when it is anything else, which `enable` and `disable` leave alone.
fn not_ours(link: &Path) -> Result<bool> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(link) {
        Ok(m) if m.file_type().is_symlink() => Ok(true),
        Ok(m) => {
            let t = m.file_type();
            let what = if t.is_dir() {
                "a directory"
            } else if t.is_file() {
                "a regular file"
            } else if t.is_fifo() {
                "a FIFO"
            } else if t.is_socket() {
                "a socket"
            } else {
                "a device"
            };
            Err(Error::other(format!("{what}, not a symbolic link (left as it is)")))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// A unique suffix for temporary names.
fn tmp_suffix() -> String {
    let mut r = [0u8; 4];
    merit_sys::fifodir::random_bytes(&mut r);
    format!("{}-{:02x}{:02x}{:02x}{:02x}", merit_sys::getpid(), r[0], r[1], r[2], r[3])
}

impl Tree {
    pub fn new(root: &Path, scan: &Path, available: &Path, enabled: &Path) -> Tree {
        Tree {
            root: root.to_path_buf(),
            scan: under(root, scan),
            available: under(root, available),
            enabled: under(root, enabled),
        }
    }

    pub fn definition(&self, name: &str) -> PathBuf {
        self.available.join(name)
    }
    pub fn supervised_dir(&self, name: &str) -> PathBuf {
        self.scan.join(name)
    }
    pub fn link(&self, name: &str) -> PathBuf {
        self.enabled.join(name)
    }

    /// An available service is a directory of `available/` with an executable `run`.
    pub fn is_available(&self, name: &str) -> bool {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(self.definition(name).join("run"))
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }

    /// Names of the directories in `available/` (symlinks to directories included), sorted.
    pub fn available_names(&self) -> Result<Vec<String>> {
        let mut v = Vec::new();
        for e in std::fs::read_dir(&self.available)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            // The directory entry's type when the file system gives it; stat only links and
            // unknown types.
            let is_dir = match e.file_type() {
                Ok(t) if t.is_dir() => true,
                Ok(t) if t.is_file() || t.is_fifo_or_socket() => false,
                _ => std::fs::metadata(e.path()).map(|m| m.is_dir()).unwrap_or(false),
            };
            if is_dir {
                v.push(name);
            }
        }
        v.sort();
        Ok(v)
    }

    /// The names in the scan directory and in the enabled directory (empty when unreadable):
    /// a service absent from the first is not supervised, from the second not enabled, with
    /// no further look.
    pub fn present(&self) -> Present {
        let names = |d: &Path| -> std::collections::HashSet<String> {
            std::fs::read_dir(d)
                .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default()
        };
        Present { scan: names(&self.scan), enabled: names(&self.enabled) }
    }

    /// Enabled at boot: `enabled/NAME` exists (following the symlink).
    pub fn is_enabled(&self, name: &str) -> bool {
        self.link(name).exists()
    }

    /// Is a supervisor running on the scan-directory copy?
    pub fn is_supervised(&self, name: &str) -> bool {
        svdir::supervisor_running(&self.supervised_dir(name)).unwrap_or(false)
    }

    /// The per-service lock file (a dot-name: scanners ignore it).
    pub fn lock_path(&self, name: &str) -> PathBuf {
        self.scan.join(format!(".service-{name}.lock"))
    }

    /// Takes the per-service lock (blocking), held until the returned value is dropped.
    /// Without a scan directory there is nothing to race with the scanner over: no lock.
    /// On a read-only scan directory this fails with EROFS (nobody can change it then: the
    /// caller may go on with what needs no writing there).
    pub fn lock(&self, name: &str) -> Result<Option<OwnedFd>> {
        if !self.scan.is_dir() {
            return Ok(None);
        }
        use merit_sys::errno::*;
        use merit_sys::flags::*;
        // Not through a symbolic link, and never anything but a regular file (a FIFO would
        // block, a device would be opened): the scan directory may belong to someone else.
        let path = self.lock_path(name);
        let f = merit_sys::fd::open(&path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600).map_err(
            |e| match e.raw_os_error() {
                Some(ELOOP) => Error::other("a symbolic link, not a lock file"),
                // A FIFO nobody reads.
                Some(ENXIO) => Error::other("not a regular file"),
                _ => e,
            },
        )?;
        let f = std::fs::File::from(f);
        if !f.metadata()?.is_file() {
            return Err(Error::other("not a regular file"));
        }
        let f = OwnedFd::from(f);
        merit_sys::lock::write_lock_wait(f.as_raw_fd())?;
        Ok(Some(f))
    }

    /// Creates or replaces `enabled/NAME -> <relative path to available/NAME>` atomically.
    /// Only a symbolic link is replaced: anything else found there (a directory, a file) was not
    /// made by us, and is refused rather than deleted (as [`Tree::disable`] does).
    pub fn enable(&self, name: &str) -> Result<()> {
        let link = self.link(name);
        not_ours(&link)?;
        let target = relative(&self.enabled, &self.definition(name));
        let tmp = self.enabled.join(format!(".{name}.merit-{}", tmp_suffix()));
        std::os::unix::fs::symlink(&target, &tmp)?;
        if let Err(e) = std::fs::rename(&tmp, &link) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }

    /// Removes the link `enabled/NAME` (absent is fine; anything but a symbolic link is refused).
    pub fn disable(&self, name: &str) -> Result<()> {
        let link = self.link(name);
        match not_ours(&link) {
            Ok(true) => std::fs::remove_file(&link),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Copies the definition into the scan directory under a dot-name, then renames it into
    /// place: a scanner never sees a half-copied service. An existing copy is kept.
    pub fn install_copy(&self, name: &str) -> Result<()> {
        self.copy_into_scan(name, &self.definition(name), &|_| Ok(()))
    }

    /// Copies `src` into the scan directory as `name`: under a dot-name (which scanners
    /// ignore), `prepare`d there, then renamed into place. An existing copy is kept; a failed
    /// one removed.
    fn copy_into_scan(&self, name: &str, src: &Path, prepare: &dyn Fn(&Path) -> Result<()>) -> Result<()> {
        let dst = self.supervised_dir(name);
        if std::fs::symlink_metadata(&dst).is_ok() {
            return Ok(());
        }
        let tmp = self.scan.join(format!(".{name}.merit-copy-{}", tmp_suffix()));
        let r = copy_tree(src, &tmp, true).and_then(|()| prepare(&tmp)).and_then(|()| std::fs::rename(&tmp, &dst));
        if r.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        r
    }

    /// Moves the scan-directory copy out of the scanner's sight (to a dot-name) and returns its
    /// new path, or `None` when there is no copy.
    pub fn hide_copy(&self, name: &str) -> Result<Option<PathBuf>> {
        let dst = self.supervised_dir(name);
        if std::fs::symlink_metadata(&dst).is_err() {
            return Ok(None);
        }
        let hidden = self.scan.join(format!(".{name}.merit-gone-{}", tmp_suffix()));
        std::fs::rename(&dst, &hidden)?;
        Ok(Some(hidden))
    }

    /// Every service of `enabled/` (the directories its entries name), and every service they
    /// need, directly or not, that is not enabled (pulled in from `available/`), copied into
    /// the scan directory as [`Tree::install_copy`] does (each copy atomic, one already there
    /// kept), each `prepare`d before it is renamed into place (init wraps a container's main
    /// service there, so that even one that dies at once is seen as such): the boot-time step
    /// of rc.init, `init copy-enabled`. See [`Tree::boot_plan`] for the order and what is
    /// said (through `note`). Returns the failures.
    pub fn copy_enabled(&self, prepare: &dyn Fn(&Path) -> Result<()>, note: &dyn Fn(&str)) -> Vec<(String, Error)> {
        let mut failed = Vec::new();
        let plan = self.boot_plan();
        for n in &plan.notes {
            note(n);
        }
        for (name, src) in &plan.order {
            let ungated = plan.ungated.contains(name);
            let prep = |copy: &Path| -> Result<()> {
                if ungated {
                    remove_dependency_files(copy)?;
                }
                prepare(copy)
            };
            if let Err(e) = self.copy_into_scan(name, src, &prep) {
                failed.push((name.clone(), e));
            }
        }
        failed
    }

    /// What the boot copies into the scan directory, in which order, and what it says:
    /// * the enabled services (the directories the entries of `enabled/` name) and every
    ///   service they need, directly or not, from `available/` (a note per service pulled in:
    ///   `pulling in NAME (needed by A, B)`);
    /// * in dependency order (what is needed first, by name within a layer), so that a
    ///   supervisor started by a scan in the middle of the copies never misses a sibling;
    /// * a service in a dependency cycle, or that needs a service which is not available, is
    ///   `ungated`: its copy loses its dependency files, so that it starts without waiting
    ///   (a boot never blocks on bad configuration), with a note naming the cycle or the
    ///   missing service. Its definition is left as it is.
    pub fn boot_plan(&self) -> BootPlan {
        use std::collections::{BTreeMap, BTreeSet};
        let mut plan = BootPlan::default();
        let Ok(rd) = std::fs::read_dir(&self.enabled) else { return plan };
        let mut sources: BTreeMap<String, PathBuf> = BTreeMap::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let src = self.link(&name);
            if !name.starts_with('.') && src.is_dir() {
                sources.insert(name, src);
            }
        }
        let enabled: Vec<String> = sources.keys().cloned().collect();
        let (graph, errors) = dependency_graph(enabled.iter().cloned(), |n| {
            sources.get(n).cloned().or_else(|| self.is_available(n).then(|| self.definition(n)))
        });
        for (name, e) in &errors {
            let why = match e {
                DepsError::Io(p, err) => format!("{name}: unable to read {}: {err}", p.display()),
                DepsError::Bad(d) => d.message(),
            };
            plan.notes.push(format!("{why}: {name} starts without waiting for its dependencies"));
        }
        let set: BTreeSet<String> = graph.names().map(str::to_string).collect();
        for name in &set {
            if sources.contains_key(name) {
                continue;
            }
            let by: Vec<String> = graph.direct_needed_by(name).into_iter().filter(|b| set.contains(b)).collect();
            plan.notes.push(format!("pulling in {name} (needed by {})", by.join(", ")));
            sources.insert(name.clone(), self.definition(name));
        }
        // Missing dependencies and cycles: those services start without waiting.
        let mut sound = merit_core::deps::Graph::new();
        for name in &set {
            let needs = graph.direct_needs(name);
            if let Some(missing) = needs.iter().find(|n| !set.contains(*n)) {
                let e = merit_core::deps::DepError::Missing { service: name.clone(), needed: missing.clone() };
                plan.notes.push(format!("{}: {name} starts without waiting for its dependencies", e.message()));
                plan.ungated.insert(name.clone());
            }
        }
        let refs: Vec<&str> = set.iter().map(String::as_str).collect();
        let in_cycle: BTreeSet<String> = refs
            .iter()
            .filter(|n| {
                let needs: Vec<&str> = graph.direct_needs(n).iter().map(String::as_str).collect();
                graph.needs_closure(&needs).contains(**n)
            })
            .map(|n| n.to_string())
            .collect();
        if !in_cycle.is_empty() {
            let mut sub = merit_core::deps::Graph::new();
            for n in &in_cycle {
                let needs: Vec<String> =
                    graph.direct_needs(n).iter().filter(|x| in_cycle.contains(*x)).cloned().collect();
                sub.add(n, &needs);
            }
            let names: Vec<&str> = in_cycle.iter().map(String::as_str).collect();
            let cycle = sub.find_cycle().map(|c| merit_core::deps::DepError::Cycle(c).message());
            plan.notes.push(format!(
                "{}: {} start without waiting for their dependencies",
                cycle.unwrap_or_else(|| "dependency cycle".into()),
                names.join(", ")
            ));
            plan.ungated.extend(in_cycle);
        }
        for name in &set {
            let needs: Vec<String> =
                if plan.ungated.contains(name) { Vec::new() } else { graph.direct_needs(name).to_vec() };
            sound.add(name, &needs);
        }
        let order: Vec<String> = sound
            .layers(None)
            .map(|l| l.into_iter().flatten().collect())
            .unwrap_or_else(|_| set.iter().cloned().collect());
        plan.order = order.into_iter().filter_map(|n| sources.get(&n).cloned().map(|src| (n, src))).collect();
        plan
    }
}

/// What the boot copies (see [`Tree::boot_plan`]).
#[derive(Debug, Default)]
pub struct BootPlan {
    /// (name, definition directory), in the order of the copies.
    pub order: Vec<(String, PathBuf)>,
    /// Services whose copy loses its dependency files (a cycle, a missing dependency).
    pub ungated: std::collections::BTreeSet<String>,
    /// What to say on the catch-all log, one line each.
    pub notes: Vec<String>,
}

/// Removes `dependencies.d/` and `dependencies` from a copy of a definition.
fn remove_dependency_files(copy: &Path) -> Result<()> {
    let ignore_absent = |r: Result<()>| match r {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        r => r,
    };
    ignore_absent(std::fs::remove_dir_all(copy.join(merit_core::deps::DIR)))?;
    ignore_absent(std::fs::remove_file(copy.join(merit_core::deps::FILE)))
}

/// Why the dependencies of a definition could not be read.
#[derive(Debug)]
pub enum DepsError {
    /// A file or directory could not be read.
    Io(PathBuf, Error),
    /// What was read is refused (a bad name, an entry that is not a regular file).
    Bad(merit_core::deps::DepError),
}

/// The entries of a `dependencies.d/` directory, sorted, with their kinds (not following
/// symbolic links). Listed with `merit_sys::fs::Dir` and the kernel's `d_type` (an `lstat` only
/// where the file system does not say): every gated s6-supervise reads one at start-up.
fn list_dependencies_d(d: &Path) -> std::io::Result<Vec<(String, merit_core::deps::EntryKind)>> {
    use merit_core::deps::EntryKind;
    use merit_sys::fs::{DT_DIR, DT_FIFO, DT_LNK, DT_REG, DT_SOCK, DT_UNKNOWN};
    let c = merit_sys::cstr(d)?;
    let mut dir: merit_sys::fs::Dir<1024> = merit_sys::fs::Dir::open(&c)?;
    // Room for the usual few entries: no growth (a supervisor reads this at start-up).
    let mut v = Vec::with_capacity(8);
    while let Some(entry) = dir.next_entry() {
        let (name, t) = entry?;
        let name = name.to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = String::from_utf8_lossy(name).into_owned();
        let t = if t == DT_UNKNOWN {
            match merit_sys::fs::lstat(&d.join(&name)) {
                Ok(st) => st.d_type(),
                // Removed while listed: not an entry any more.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            }
        } else {
            t
        };
        let kind = match t {
            DT_REG => EntryKind::Regular,
            DT_DIR => EntryKind::Directory,
            DT_LNK => EntryKind::Symlink,
            DT_FIFO => EntryKind::Fifo,
            DT_SOCK => EntryKind::Socket,
            _ => EntryKind::Device,
        };
        v.push((name, kind));
    }
    v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(v)
}

/// What the definition in `dir` (of the service `name`) says it needs: `dir/dependencies.d/`
/// and `dir/dependencies`, in the source format of s6-rc (see `merit_core::deps`). Neither
/// present: nothing. The file is opened without blocking and must be a regular file.
pub fn read_dependencies(dir: &Path, name: &str) -> std::result::Result<Vec<String>, DepsError> {
    use merit_core::deps::{self, DepError, EntryKind};
    use std::os::unix::fs::FileTypeExt;
    let kind_of = |t: std::fs::FileType| {
        if t.is_file() {
            EntryKind::Regular
        } else if t.is_dir() {
            EntryKind::Directory
        } else if t.is_symlink() {
            EntryKind::Symlink
        } else if t.is_fifo() {
            EntryKind::Fifo
        } else if t.is_socket() {
            EntryKind::Socket
        } else {
            EntryKind::Device
        }
    };
    let d = dir.join(deps::DIR);
    let listing = match list_dependencies_d(&d) {
        Ok(v) => Some(v),
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) if e.raw_os_error() == Some(merit_sys::errno::ENOTDIR) => {
            let kind = std::fs::symlink_metadata(&d).map(|m| kind_of(m.file_type())).unwrap_or(EntryKind::Regular);
            return Err(DepsError::Bad(DepError::NotDirectory { service: name.to_string(), kind }));
        }
        Err(e) => return Err(DepsError::Io(d, e)),
    };
    let f = dir.join(deps::FILE);
    use merit_sys::flags::*;
    let text = match merit_sys::fd::open(&f, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0) {
        Ok(fd) => {
            use std::io::Read;
            let mut file = std::fs::File::from(fd);
            let t = file.metadata().map_err(|e| DepsError::Io(f.clone(), e))?.file_type();
            if !t.is_file() {
                return Err(DepsError::Bad(DepError::NotRegular {
                    service: name.to_string(),
                    entry: deps::FILE.to_string(),
                    kind: kind_of(t),
                }));
            }
            let mut t = String::new();
            file.read_to_string(&mut t).map_err(|e| DepsError::Io(f.clone(), e))?;
            Some(t)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(DepsError::Io(f, e)),
    };
    deps::declared(name, listing.as_deref(), text.as_deref()).map_err(DepsError::Bad)
}

/// The dependency graph of `roots` and of everything they need, directly or not. `definition`
/// gives the directory holding a service's dependency files (for `service`: `available/NAME`
/// when it is an available service), or None: that name is then not a node, and an edge to it
/// is a missing dependency (`Graph::missing`). A definition whose dependencies cannot be read
/// is a node without needs, and its error is returned beside the graph.
pub fn dependency_graph(
    roots: impl IntoIterator<Item = String>,
    definition: impl Fn(&str) -> Option<PathBuf>,
) -> (merit_core::deps::Graph, std::collections::BTreeMap<String, DepsError>) {
    let mut graph = merit_core::deps::Graph::new();
    let mut errors = std::collections::BTreeMap::new();
    let mut todo: Vec<String> = roots.into_iter().collect();
    while let Some(n) = todo.pop() {
        if graph.contains(&n) {
            continue;
        }
        let Some(dir) = definition(&n) else { continue };
        match read_dependencies(&dir, &n) {
            Ok(needs) => {
                graph.add(&n, &needs);
                todo.extend(needs.into_iter().filter(|x| !graph.contains(x)));
            }
            Err(e) => {
                graph.add(&n, &[]);
                errors.insert(n, e);
            }
        }
    }
    (graph, errors)
}

/// `cp -a`-like copy of a service definition: directories, regular files (with mode),
/// symlinks, FIFOs. A definition's own `supervise/` and `event/` (state of an earlier
/// supervisor) are not copied.
///
/// Safe for a root caller on a tree that belongs to someone else: `dst` is created mode 0700 and
/// everything under it is created through directory descriptors (`*at` calls, `O_NOFOLLOW`), so
/// renaming or replacing a directory of the tree meanwhile cannot redirect a write; a source
/// file is opened `O_NOFOLLOW|O_NONBLOCK` and must be a regular file; the set-user-ID and
/// set-group-ID bits of a file or directory the caller does not own are not copied (the copy
/// belongs to the caller). Each directory gets its mode once it is complete.
pub fn copy_tree(src: &Path, dst: &Path, top: bool) -> Result<()> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    std::fs::DirBuilder::new().mode(0o700).create(dst)?;
    use merit_sys::flags::*;
    let d = merit_sys::fd::open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0)?;
    let dm = std::fs::File::from(d.try_clone()?).metadata()?;
    if dm.uid() != merit_sys::geteuid() {
        return Err(Error::other(format!("{} was replaced while being created", dst.display())));
    }
    copy_into(src, d.as_fd(), top)
}

/// The mode a copy of a file with metadata `m` gets: its permission bits, without set-user-ID
/// and set-group-ID when the caller does not own it.
fn copy_mode(m: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    let mode = m.mode() & 0o7777;
    if m.uid() == merit_sys::geteuid() {
        mode
    } else {
        mode & !0o6000
    }
}

fn cname(name: &std::ffi::OsStr) -> Result<std::ffi::CString> {
    merit_sys::cstr(name)
}

/// Copies the contents of `src` into the (empty, ours, mode 0700) directory `dst`, then gives
/// `dst` the mode of `src`.
fn copy_into(src: &Path, dst: std::os::fd::BorrowedFd<'_>, top: bool) -> Result<()> {
    use merit_sys::flags::*;
    use merit_sys::fs::at;
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::metadata(src)?;
    for e in std::fs::read_dir(src)? {
        let e = e?;
        let name = e.file_name();
        let ft = e.file_type()?;
        let s = e.path();
        let is_state = (name == "supervise" || name == "event") && (top || src.ends_with("log"));
        if is_state {
            continue;
        }
        let n = cname(&name)?;
        if ft.is_symlink() {
            let target = std::fs::read_link(&s)?;
            at::symlink(&merit_sys::cstr(target.as_os_str())?, dst, &n)?;
        } else if ft.is_dir() {
            at::mkdir(dst, &n, 0o700)?;
            let sub = at::open(dst, &n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)?;
            copy_into(&s, sub.as_fd(), false)?;
        } else if ft.is_fifo() {
            let mode = copy_mode(&e.metadata()?);
            at::mkfifo(dst, &n, mode)?;
            // The umask may have taken bits away; nobody else can write in `dst` (0700, ours).
            at::chmod(dst, &n, mode)?;
        } else if ft.is_file() {
            let from = merit_sys::fd::open(&s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0)?;
            let mut from = std::fs::File::from(from);
            let m = from.metadata()?;
            if !m.is_file() {
                return Err(Error::other(format!("{}: not a regular file", s.display())));
            }
            let mode = copy_mode(&m);
            let to = at::open(dst, &n, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode)?;
            let mut to = std::fs::File::from(to);
            std::io::copy(&mut from, &mut to)?;
            // fchmod: the umask may have taken bits away.
            use std::os::unix::fs::PermissionsExt;
            to.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
    }
    use std::os::unix::fs::PermissionsExt;
    let d = std::fs::File::from(dst.try_clone_to_owned()?);
    d.set_permissions(std::fs::Permissions::from_mode(copy_mode(&meta)))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn paths() {
        assert_eq!(under(Path::new("/tmp/r"), Path::new("/s6/run")), PathBuf::from("/tmp/r/s6/run"));
        assert_eq!(under(Path::new(""), Path::new("/s6/run")), PathBuf::from("/s6/run"));
        assert_eq!(
            relative(Path::new("/r/etc/s6/services/enabled"), Path::new("/r/etc/s6/services/available/ntpd")),
            PathBuf::from("../available/ntpd")
        );
    }
}
