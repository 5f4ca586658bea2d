//! A real kernel boot: a Debian cloud kernel (fetched with `apt-get download`, unpacked with
//! `dpkg-deb -x`) boots under QEMU (TCG) into an initramfs made here from our static release
//! binaries (dist/bin, made by scripts/build), busybox-static and Debian's execline (with the
//! libraries `ldd` names). Our `init` is /sbin/init (`rdinit=/sbin/init`); /etc/s6 comes from
//! `init skeleton`; three enabled services with loggers. rc.init also runs /etc/s6/boot-test,
//! which waits for the services, checks that rc.init's line reached the catch-all log (Mere's own
//! `s6-svscan-log`, running as Mere's nobody, uid 99), runs `service list`, stops and starts one service, steps the
//! wall clock an hour back and two forward (the restart throttle and `s6-svc -T` must follow
//! the monotonic clock: safe here, the guest's clock is its own), and powers off with
//! `telinit 7`. Two more services depend on each other: app needs base, which is not enabled
//! (init pulls it in); app's first start comes after base is ready, and at the power-off base
//! is stopped only once app is down. The kernel command line carries words init must ignore (`single`,
//! `shutdown`) and an environment entry with an empty name (`=foo=bar`). The test reads the serial console.
//!
//! Under CI=true this test must run: a missing QEMU, kernel, busybox or dist/bin fails it.
//! Elsewhere it is skipped, with the reason. Environment: MERIT_KERNEL=path/to/vmlinuz (skip the
//! download), MERIT_QEMU_TIMEOUT=seconds (default 300), MERIT_DIST=dir (default dist/bin).

use crate::common::{cannot_run, workspace};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Not possible here: fail under CI, skip (with the reason) elsewhere.
fn unavailable(why: &str) {
    cannot_run("the QEMU boot test", why);
}

fn which(prog: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join(prog)).find(|p| p.is_file()))
}

fn output(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?}: {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

// ---------------------------------------------------------------------------------------------
// The kernel

/// A Debian cloud kernel: MERIT_KERNEL, else the package the `linux-image-cloud-amd64`
/// meta-package depends on, downloaded once into target/qemu/.
fn kernel() -> Result<PathBuf, String> {
    if let Some(k) = std::env::var_os("MERIT_KERNEL") {
        let k = PathBuf::from(k);
        return if k.is_file() { Ok(k) } else { Err(format!("MERIT_KERNEL={} is not a file", k.display())) };
    }
    if std::env::consts::ARCH != "x86_64" {
        return Err("not an x86_64 host".into());
    }
    let deps = output(Command::new("apt-cache").args(["depends", "linux-image-cloud-amd64"]))?;
    let pkg = deps
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Depends: "))
        .find(|p| p.starts_with("linux-image-") && !p.contains('<'))
        .ok_or_else(|| format!("apt-cache depends linux-image-cloud-amd64 names no kernel (apt-get update?):\n{deps}"))?
        .to_string();
    let cache = workspace().join("target/qemu").join(&pkg);
    let find = |dir: &Path| -> Option<PathBuf> {
        std::fs::read_dir(dir.join("x/boot"))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-")))
    };
    if let Some(k) = find(&cache) {
        return Ok(k);
    }
    let _ = std::fs::remove_dir_all(&cache);
    std::fs::create_dir_all(&cache).map_err(|e| e.to_string())?;
    eprintln!("qemu: downloading {pkg} (apt-get download)");
    output(Command::new("apt-get").args(["download", "-q", &pkg]).current_dir(&cache))?;
    let deb = std::fs::read_dir(&cache)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download left no .deb")?;
    output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(cache.join("x")))?;
    let _ = std::fs::remove_file(&deb);
    find(&cache).ok_or_else(|| format!("no boot/vmlinuz-* in {}", deb.display()))
}

// ---------------------------------------------------------------------------------------------
// The initramfs: a newc cpio archive written here (no root-owned mknod needed for /dev/console)

enum Node {
    Dir(u32),
    File(Vec<u8>, u32),
    Symlink(String),
    Fifo(u32),
    CharDev(u32, u32, u32),
}

#[derive(Default)]
struct Archive {
    nodes: BTreeMap<String, Node>,
}

impl Archive {
    /// Adds a node at `path` (relative, no leading slash), and its parent directories.
    fn add(&mut self, path: &str, node: Node) {
        let path = path.trim_start_matches('/').to_string();
        let mut parent = Path::new(&path).parent();
        while let Some(p) = parent {
            let s = p.to_string_lossy().into_owned();
            if s.is_empty() {
                break;
            }
            self.nodes.entry(s).or_insert(Node::Dir(0o755));
            parent = p.parent();
        }
        self.nodes.insert(path, node);
    }
    fn has(&self, path: &str) -> bool {
        self.nodes.contains_key(path.trim_start_matches('/'))
    }
    fn file(&mut self, path: &str, content: impl Into<Vec<u8>>, mode: u32) {
        self.add(path, Node::File(content.into(), mode));
    }
    fn symlink(&mut self, path: &str, target: &str) {
        self.add(path, Node::Symlink(target.to_string()));
    }
    /// A host file (symlinks followed), keeping its permission bits.
    fn host_file(&mut self, path: &str, host: &Path) -> Result<(), String> {
        let data = std::fs::read(host).map_err(|e| format!("{}: {e}", host.display()))?;
        let mode = std::fs::metadata(host).map_err(|e| e.to_string())?.permissions().mode() & 0o7777;
        self.file(path, data, mode);
        Ok(())
    }
    /// A host tree (as laid out by `init skeleton`): directories, files, symlinks, FIFOs.
    fn host_tree(&mut self, path: &str, host: &Path) -> Result<(), String> {
        use std::os::unix::fs::FileTypeExt;
        let meta = std::fs::symlink_metadata(host).map_err(|e| format!("{}: {e}", host.display()))?;
        let mode = meta.permissions().mode() & 0o7777;
        let ft = meta.file_type();
        if ft.is_dir() {
            self.add(path, Node::Dir(mode));
            for e in std::fs::read_dir(host).map_err(|e| e.to_string())?.flatten() {
                self.host_tree(&format!("{path}/{}", e.file_name().to_string_lossy()), &e.path())?;
            }
        } else if ft.is_symlink() {
            let t = std::fs::read_link(host).map_err(|e| e.to_string())?;
            self.symlink(path, &t.to_string_lossy());
        } else if ft.is_fifo() {
            self.add(path, Node::Fifo(mode));
        } else {
            self.host_file(path, host)?;
        }
        Ok(())
    }

    fn write(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut ino = 1u32;
        let mut entry = |out: &mut Vec<u8>, name: &str, mode: u32, nlink: u32, rdev: (u32, u32), data: &[u8]| {
            let fields = [ino, mode, 0, 0, nlink, 0, data.len() as u32, 0, 0, rdev.0, rdev.1, name.len() as u32 + 1, 0];
            ino += 1;
            out.extend_from_slice(b"070701");
            for f in fields {
                out.extend_from_slice(format!("{f:08x}").as_bytes());
            }
            out.extend_from_slice(name.as_bytes());
            out.push(0);
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for (name, node) in &self.nodes {
            match node {
                Node::Dir(m) => entry(&mut out, name, 0o040000 | m, 2, (0, 0), &[]),
                Node::File(d, m) => entry(&mut out, name, 0o100000 | m, 1, (0, 0), d),
                Node::Symlink(t) => entry(&mut out, name, 0o120777, 1, (0, 0), t.as_bytes()),
                Node::Fifo(m) => entry(&mut out, name, 0o010000 | m, 1, (0, 0), &[]),
                Node::CharDev(m, maj, min) => entry(&mut out, name, 0o020000 | m, 1, (*maj, *min), &[]),
            }
        }
        entry(&mut out, "TRAILER!!!", 0, 1, (0, 0), &[]);
        out
    }
}

/// Whether an ELF executable has no program interpreter (statically linked, PIE or not).
fn is_static_elf(p: &Path) -> bool {
    let Ok(b) = std::fs::read(p) else { return false };
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(b[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    (0..phnum).all(|i| {
        let o = phoff + i * phentsize;
        o + 4 <= b.len() && u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) != 3
        // PT_INTERP
    })
}

/// Shared libraries `ldd` names for `exe` (the loader included), as absolute host paths.
fn ldd(exe: &Path) -> Vec<PathBuf> {
    let Ok(text) = output(Command::new("ldd").arg(exe)) else { return Vec::new() };
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, r)) => r.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// Does our s6-log work yet (another part of the project)? Else the loggers use `cat`.
fn s6_log_works(dist: &Path) -> bool {
    let t = crate::common::TempDir::new("qemu-s6log");
    let mut child = match Command::new(dist.join("s6-log"))
        .args(["--", t.join("d").to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(_) => return false,
    };
    {
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(b"probe line\n");
    }
    let _ = child.wait();
    std::fs::read_to_string(t.join("d/current")).is_ok_and(|s| s.contains("probe line"))
}

const BOOT_TEST: &str = r#"#!/bin/sh
# Run by rc.init in the guest: check the services, stop and start one, power off.
exec >/dev/console 2>&1
# Only emergencies (a panic, "reboot: Power down") from the kernel from now on: its messages
# would cut our lines.
dmesg -n 1
echo "boot-test: waiting for the services"
n=0
until s6-svwait -u -t 1000 /s6/run/ticker /s6/run/el /s6/run/sleeper /s6/run/app 2>/dev/null; do
    n=$((n+1))
    if [ "$n" -gt 120 ]; then
        echo "boot-test: FAILED: services not up"
        ls -la /s6/run /s6/run/* /etc/s6/services/enabled/
        init copy-enabled
        break
    fi
    sleep 0.5
done
echo "boot-test: all services up (uptime $(cut -d' ' -f1 /proc/uptime) s)"
# app needs base (not enabled: pulled in), ready 0.5 s after its start.
echo "boot-test: app started $(cat /run/app.start)"
echo "boot-test: pulled in: $(grep -c 'init: pulling in base (needed by app)' /s6/uncaught-logs/current) line(s)"
service list
service sleeper stop
echo "boot-test: sleeper: $(s6-svstat /s6/run/sleeper)"
service sleeper start
s6-svwait -u -t 10000 /s6/run/sleeper && echo "boot-test: sleeper up again"
# The wall clock stepped an hour back, then two forward: the restart throttle of a crash-looping
# service (one start a second) and the -T timeout of s6-svc follow the monotonic clock.
deaths() { echo $(( $(wc -c < /s6/run/crasher/supervise/death_tally) / 14 )); }
clock_case() { # LABEL SECONDS-TO-ADD
    date -s "@$(( $(date +%s) + $2 ))" >/dev/null
    a=$(deaths); sleep 3; b=$(deaths)
    t0=$(cut -d. -f1 /proc/uptime)
    s6-svc -wd -T 1500 -u /s6/run/sleeper; rc=$?
    t1=$(cut -d. -f1 /proc/uptime)
    d=$((b - a)); w=$((t1 - t0))
    echo "boot-test: clock $1: $d restarts in 3 s, s6-svc -T 1500 exit $rc after ${w} s"
    if [ "$d" -lt 2 ] || [ "$d" -gt 4 ] || [ "$rc" != 99 ] || [ "$w" -gt 3 ]; then
        echo "boot-test: FAILED: clock $1"
    fi
}
s6-svwait -u -t 10000 /s6/run/crasher 2>/dev/null
clock_case back -3600
clock_case forward 7200
echo "boot-test: clock steps done"
# A cgroup per service (init mounted cgroup2 on /sys/fs/cgroup).
echo "boot-test: cgroup2: $(grep -c ' /sys/fs/cgroup cgroup2 ' /proc/mounts) mount(s)"
s6-svwait -u -t 10000 /s6/run/dfork
sleep 0.5
before=$(ps -o args | grep -c '^sleep 7777$')
service dfork stop >/dev/null
sleep 0.3
after=$(ps -o args | grep -c '^sleep 7777$')
echo "boot-test: dfork: $before daemon(s) before stop, $after after, $(service dfork status | grep '^left behind')"
n=0
until [ "$(grep -s '^oom_kill ' /sys/fs/cgroup/merit/hog/memory.events | cut -d' ' -f2)" -ge 2 ] 2>/dev/null; do
    n=$((n+1)); [ "$n" -gt 60 ] && break; sleep 0.5
done
echo "boot-test: hog: oom_kill $(grep '^oom_kill ' /sys/fs/cgroup/merit/hog/memory.events | cut -d' ' -f2), $(( $(wc -c < /s6/run/hog/supervise/death_tally) / 14 )) deaths"
sleep 1
echo "boot-test: bomb: pids.current $(cat /sys/fs/cgroup/merit/bomb/pids.current) max 20, pids.events $(cat /sys/fs/cgroup/merit/bomb/pids.events | tr ' ' '=')"
service bomb stop >/dev/null
echo "boot-test: bomb stopped: pids.current $(cat /sys/fs/cgroup/merit/bomb/pids.current)"
sleep 1.5
echo "boot-test: ticker log: $(tail -n 1 /var/log/ticker/current 2>/dev/null || tail -n 1 /var/log/ticker)"
echo "boot-test: el log: $(tail -n 1 /var/log/el/current 2>/dev/null || tail -n 1 /var/log/el)"
echo "boot-test: catch-all: $(grep -c 'rc.init: hello, catch-all' /s6/uncaught-logs/current 2>&1) line(s), $(stat -c '%u:%g %a' /s6/uncaught-logs 2>&1)"
echo "boot-test: processes: $(ps -o comm | sort | uniq -c | tr -s ' \n' ' ')"
echo "boot-test: telinit 7 (uptime $(cut -d' ' -f1 /proc/uptime) s)"
telinit 7
"#;

/// The guest's root filesystem.
fn initramfs(dist: &Path, stage: &Path) -> Result<Vec<u8>, String> {
    let mut a = Archive::default();
    for d in ["dev", "proc", "sys", "run", "s6", "tmp", "var/log", "root", "etc/s6"] {
        a.add(d, Node::Dir(if d == "tmp" { 0o1777 } else { 0o755 }));
    }
    a.add("dev/console", Node::CharDev(0o600, 5, 1));
    a.add("dev/null", Node::CharDev(0o666, 1, 3));
    // Our programs, all in /sbin (init puts its own directory first on PATH): the multi-call
    // binary merit and a symlink NAME -> merit per program, kept as symlinks (one copy of merit
    // in the image, shared by every process, as installed).
    let mut ours = Vec::new();
    for e in std::fs::read_dir(dist).map_err(|e| format!("{}: {e}", dist.display()))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !is_static_elf(&e.path()) {
            return Err(format!("{} is not a static executable (run scripts/build)", e.path().display()));
        }
        if e.file_type().is_ok_and(|t| t.is_symlink()) {
            let to = std::fs::read_link(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
            a.symlink(&format!("sbin/{name}"), &to.to_string_lossy());
        } else {
            a.host_file(&format!("sbin/{name}"), &e.path())?;
        }
        ours.push(name);
    }
    for l in ["telinit", "halt", "poweroff", "reboot"] {
        a.symlink(&format!("sbin/{l}"), "init");
    }
    // busybox-static and its applets (ours win: init, halt, poweroff, reboot...).
    let busybox = which("busybox").ok_or("busybox not installed (apt-get install busybox-static)")?;
    if !is_static_elf(&busybox) {
        return Err(format!("{} is not static (apt-get install busybox-static)", busybox.display()));
    }
    a.host_file("bin/busybox", &busybox)?;
    for applet in output(Command::new(&busybox).arg("--list-full"))?.lines() {
        let applet = applet.trim().trim_start_matches('/');
        let base = applet.rsplit('/').next().unwrap_or(applet);
        if applet.is_empty() || a.has(&format!("sbin/{base}")) || a.has(applet) || base == "linuxrc" {
            continue;
        }
        a.symlink(applet, "/bin/busybox");
    }
    // execline, dynamically linked: its programs and the libraries they need.
    let mut libs = std::collections::BTreeSet::new();
    if Path::new("/usr/lib/execline/bin").is_dir() && Path::new("/usr/bin/execlineb").is_file() {
        a.host_file("usr/bin/execlineb", Path::new("/usr/bin/execlineb"))?;
        // Where Mere's scripts look for it.
        a.host_file("bin/execlineb", Path::new("/usr/bin/execlineb"))?;
        for e in std::fs::read_dir("/usr/lib/execline/bin").map_err(|e| e.to_string())?.flatten() {
            a.host_file(&format!("usr/lib/execline/bin/{}", e.file_name().to_string_lossy()), &e.path())?;
            libs.extend(ldd(&e.path()));
        }
    } else {
        return Err("execline not installed (apt-get install execline)".into());
    }
    for l in libs {
        a.host_file(&l.to_string_lossy(), &l)?;
    }
    // /etc/s6 from our own `init skeleton`, then the test's services.
    let st = Command::new(dist.join("init")).arg("skeleton").arg(stage).status().map_err(|e| e.to_string())?;
    if !st.success() {
        return Err("init skeleton failed".into());
    }
    let etc = stage.join("etc/s6");
    let avail = etc.join("services/available");
    let log_run = |name: &str| {
        if s6_log_works(dist) {
            format!("#!/bin/sh\nexec s6-log -b -- t /var/log/{name}\n")
        } else {
            format!("#!/bin/sh\nexec cat >> /var/log/{name}\n")
        }
    };
    let svc = |name: &str, run: &str| -> Result<(), String> {
        let d = avail.join(name);
        std::fs::create_dir_all(d.join("log")).map_err(|e| e.to_string())?;
        std::fs::write(d.join("run"), run).map_err(|e| e.to_string())?;
        std::fs::write(d.join("log/run"), log_run(name)).map_err(|e| e.to_string())?;
        for f in ["run", "log/run"] {
            std::fs::set_permissions(d.join(f), std::fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
        }
        std::os::unix::fs::symlink(format!("../available/{name}"), etc.join("services/enabled").join(name))
            .map_err(|e| e.to_string())
    };
    svc("ticker", "#!/bin/sh\nexec 2>&1\ni=0\nwhile :; do i=$((i+1)); echo \"tick $i\"; sleep 1; done\n")?;
    svc("el", "#!/usr/bin/execlineb -P\nfdmove -c 2 1\n/bin/sh -c \"while :; do echo execline service alive; sleep 1; done\"\n")?;
    svc("sleeper", "#!/bin/sh\nexec 2>&1\necho sleeper starting\nexec sleep 100000\n")?;
    // Dies at once, restarted once a second (the clock-step checks count its deaths).
    svc("crasher", "#!/bin/sh\nexit 1\n")?;
    std::fs::write(avail.join("crasher/max-death-tally"), "4096\n").map_err(|e| e.to_string())?;
    // Boot and shutdown in dependency order: app needs base, which is not enabled (pulled in)
    // and ready 0.5 s after its start; each says on the console what it saw of the other.
    svc(
        "app",
        "#!/bin/sh\nif [ -e /run/base.ready ]; then echo 'after base was ready' > /run/app.start; \
         else echo 'BEFORE base was ready' > /run/app.start; fi\n\
         trap 'sleep 0.3; touch /run/app.stopped; exit 0' TERM\nwhile :; do sleep 0.1; done\n",
    )?;
    std::fs::create_dir_all(avail.join("app/dependencies.d")).map_err(|e| e.to_string())?;
    std::fs::write(avail.join("app/dependencies.d/base"), "").map_err(|e| e.to_string())?;
    std::fs::create_dir_all(avail.join("base")).map_err(|e| e.to_string())?;
    std::fs::write(
        avail.join("base/run"),
        "#!/bin/sh\ntrap 'if [ -e /run/app.stopped ]; then w=after; else w=BEFORE; fi; \
         echo \"base: stopped $w app was down\" > /dev/console; exit 0' TERM\n\
         sleep 0.5\ntouch /run/base.ready\necho >&3\nwhile :; do sleep 0.1; done\n",
    )
    .map_err(|e| e.to_string())?;
    std::fs::set_permissions(avail.join("base/run"), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    std::fs::write(avail.join("base/notification-fd"), "3\n").map_err(|e| e.to_string())?;
    // A cgroup each: a daemon that double-forks, one over memory-max, a fork bomb under pids-max.
    svc("dfork", "#!/bin/sh\n( setsid sleep 7777 & )\nexec sleep 100000\n")?;
    std::fs::write(avail.join("dfork/cgroup"), "").map_err(|e| e.to_string())?;
    svc("hog", "#!/bin/sh\nexec dd if=/dev/zero of=/dev/null bs=64M count=100000\n")?;
    std::fs::write(avail.join("hog/memory-max"), "16M\n").map_err(|e| e.to_string())?;
    svc(
        "bomb",
        "#!/bin/sh\ni=0\nwhile [ $i -lt 100 ]; do sleep 100000 & i=$((i+1)); done 2>/dev/null\nexec sleep 100000\n",
    )?;
    std::fs::write(avail.join("bomb/pids-max"), "20\n").map_err(|e| e.to_string())?;
    let rc_init = std::fs::read_to_string(etc.join("rc.init")).map_err(|e| e.to_string())?;
    std::fs::write(etc.join("rc.init"), format!("{rc_init}echo 'rc.init: hello, catch-all'\n/etc/s6/boot-test\n"))
        .map_err(|e| e.to_string())?;
    // Mere's own catch-all logger, unchanged: execline, `s6-applyuidgid -u 99 -g 99` (Mere's
    // nobody, as in the passwd below), `s6-log ... /s6/uncaught-logs`.
    std::fs::write(etc.join("init-services/s6-svscan-log/run"), include_str!("initns/mere-s6-svscan-log"))
        .map_err(|e| e.to_string())?;
    std::fs::write(etc.join("boot-test"), BOOT_TEST).map_err(|e| e.to_string())?;
    std::fs::set_permissions(etc.join("boot-test"), std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    std::fs::write(etc.join("rc.shutdown"), "#!/bin/sh\necho \"rc.shutdown: $1\" >/dev/console\n")
        .map_err(|e| e.to_string())?;
    a.host_tree("etc/s6", &etc)?;
    a.file("etc/hostname", "merit-qemu\n", 0o644);
    // Mere's ids: nobody and nogroup are 99.
    a.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:99:99:nobody:/:/bin/false\n", 0o644);
    a.file("etc/group", "root:x:0:\nnogroup:x:99:\n", 0o644);
    Ok(a.write())
}

/// The text without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\x1b' && it.peek() == Some(&'[') {
            it.next();
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------

#[test]
fn qemu_boot_service_list_stop_start_poweroff() {
    let qemu = match which("qemu-system-x86_64") {
        Some(q) => q,
        None => return unavailable("qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"),
    };
    let dist = std::env::var_os("MERIT_DIST").map(PathBuf::from).unwrap_or_else(|| workspace().join("dist/bin"));
    if !dist.join("init").is_file() {
        return unavailable(&format!("{} has no init: run scripts/build first", dist.display()));
    }
    let kernel = match kernel() {
        Ok(k) => k,
        Err(e) => return unavailable(&format!("no kernel: {e}")),
    };
    let t = crate::common::TempDir::new("qemu");
    let image = match initramfs(&dist, &t.join("stage")) {
        Ok(i) => i,
        Err(e) => return unavailable(&e),
    };
    // Kept in target/qemu for inspection (and for bench/boot.py).
    std::fs::create_dir_all(workspace().join("target/qemu")).unwrap();
    let initrd = workspace().join("target/qemu/initrd.cpio");
    std::fs::write(&initrd, &image).unwrap();
    eprintln!("qemu: kernel {}, initramfs {} KiB", kernel.display(), image.len() / 1024);

    let timeout = std::env::var("MERIT_QEMU_TIMEOUT").ok().and_then(|s| s.parse().ok()).unwrap_or(300u64);
    let started = Instant::now();
    let mut child = crate::common::command(&qemu)
        .args(["-accel", "tcg", "-nodefaults", "-display", "none", "-serial", "stdio", "-no-reboot", "-m", "512"])
        .arg("-kernel")
        .arg(&kernel)
        .arg("-initrd")
        .arg(&initrd)
        // With hostile words for PID 1: argv words it must ignore, and an environment entry
        // whose name is empty (`=foo=bar`), which once made stage 1 panic.
        .args(["-append", "console=ttyS0 rdinit=/sbin/init panic=-1 =foo=bar single shutdown"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start qemu");
    let pid = child.id() as i32;
    // The serial console, line by line, each with its arrival time.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<(Duration, String)>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let l = String::from_utf8_lossy(&line).trim_end_matches('\r').to_string();
            if tx.send((started.elapsed(), l)).is_err() {
                break;
            }
        }
    });
    let mut console = String::new();
    let mut marks: BTreeMap<&str, Duration> = BTreeMap::new();
    let deadline = started + Duration::from_secs(timeout);
    let mut status = None;
    loop {
        while let Ok((at, l)) = rx.try_recv() {
            for (key, pat) in [
                ("kernel", "Linux version"),
                ("init", "Run /sbin/init as init process"),
                ("services up", "boot-test: all services up"),
                ("telinit 7", "boot-test: telinit 7"),
                ("power off", "reboot: Power down"),
            ] {
                if l.contains(pat) {
                    marks.entry(key).or_insert(at);
                }
            }
            console.push_str(&l);
            console.push('\n');
        }
        if let Ok(Some(st)) = child.try_wait() {
            status = Some(st);
            break;
        }
        if console.contains("Kernel panic") || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if status.is_none() {
        // Our own child, not reaped yet: its pid is still ours.
        let _ = merit_sys::signal::kill(pid, merit_sys::signal::SIGKILL);
        let _ = child.wait();
    }
    let _ = reader.join();
    while let Ok((_, l)) = rx.try_recv() {
        console.push_str(&l);
        console.push('\n');
    }
    let total = started.elapsed();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    std::fs::create_dir_all(workspace().join("target/qemu")).unwrap();
    let _ = std::fs::write(workspace().join("target/qemu/console.log"), &console);
    let show = || format!("--- serial console ---\n{console}\n--- qemu stderr ---\n{err}");
    // `service` colours its words on a terminal (the serial console is one).
    let plain = strip_ansi(&console);
    let console = plain;

    assert!(!console.contains("Kernel panic"), "kernel panic\n{}", show());
    assert!(status.is_some(), "QEMU did not exit within {timeout} s\n{}", show());
    assert!(status.unwrap().success(), "QEMU exited with {status:?}\n{}", show());
    // service list: the table, every service up and enabled.
    assert!(console.contains("Service            Status              OnBoot"), "no service list\n{}", show());
    for n in ["el", "sleeper", "ticker"] {
        assert!(console.contains(&format!("\n{n:<19}{:<20}enabled\n", "up")), "{n} not listed up\n{}", show());
    }
    for word in ["single", "shutdown"] {
        assert!(
            console.contains(&format!("init: warning: ignoring the argument \"{word}\"")),
            "{word}: no warning\n{}",
            show()
        );
    }
    for want in [
        "Stopping sleeper... OK",
        "boot-test: sleeper: down",
        "Starting sleeper... OK",
        "boot-test: sleeper up again",
        "boot-test: ticker log: ",
        "tick ",
        "boot-test: el log: ",
        "execline service alive",
        "boot-test: catch-all: 1 line(s), 99:99 2700",
        "boot-test: clock back: ",
        "boot-test: clock forward: ",
        "boot-test: clock steps done",
        "boot-test: app started after base was ready",
        "boot-test: pulled in: 1 line(s)",
        "base: stopped after app was down",
        "boot-test: cgroup2: 1 mount(s)",
        "boot-test: dfork: 1 daemon(s) before stop, 0 after, left behind at the last stop: 1 processes, killed",
        "boot-test: bomb stopped: pids.current 0",
        "rc.shutdown: poweroff",
        "init: all services stopped, filesystems unmounted: powering off",
        "reboot: Power down",
    ] {
        assert!(console.contains(want), "missing {want:?}\n{}", show());
    }
    assert!(!console.contains("FAILED"), "{}", show());
    assert!(!console.contains("unable to open /s6/uncaught-logs"), "{}", show());
    // memory-max: the hog was OOM-killed in its cgroup, and restarted (then killed again).
    let hog = console.lines().find_map(|l| l.split("boot-test: hog: oom_kill ").nth(1)).unwrap_or("");
    let nums: Vec<u64> = hog.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(nums.len() == 2 && nums[0] >= 2 && nums[1] >= 2, "hog: {hog:?}\n{}", show());
    // pids-max: the fork bomb hit the limit (pids.events max > 0) and never went past it (a
    // shell whose fork fails gives up: it may be between two lives, 0 processes).
    let bomb = console.lines().find_map(|l| l.split("boot-test: bomb: pids.current ").nth(1)).unwrap_or("");
    let nums: Vec<u64> = bomb.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(nums.len() == 3 && nums[0] <= 20 && nums[1] == 20 && nums[2] >= 1, "bomb: {bomb:?}\n{}", show());
    let secs = |k: &str| marks.get(k).map_or("?".to_string(), |d| format!("{:.1}", d.as_secs_f64()));
    eprintln!(
        "qemu: boot times (s since QEMU started, TCG): kernel banner {}, /sbin/init {}, all services up {}, telinit 7 {}, power down {}, QEMU exited {:.1}",
        secs("kernel"),
        secs("init"),
        secs("services up"),
        secs("telinit 7"),
        secs("power off"),
        total.as_secs_f64()
    );
    let _ = std::fs::write(
        workspace().join("target/qemu/times"),
        format!(
            "init {}\nservices_up {}\ntelinit {}\npower_down {}\nexit {:.2}\n",
            secs("init"),
            secs("services up"),
            secs("telinit 7"),
            secs("power off"),
            total.as_secs_f64()
        ),
    );
}
