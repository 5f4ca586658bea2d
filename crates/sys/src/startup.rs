//! Program entry without the Rust runtime's start-up.
//!
//! Before a normal Rust `main`, the runtime reopens any closed descriptor among 0, 1, 2 on
//! `/dev/null`, sets SIGPIPE to "ignore", and installs a SIGSEGV/SIGBUS handler on an
//! alternate signal stack (an mmap, an mprotect, a sigaltstack: about fifteen syscalls and a
//! few page faults per process). A C program (the real s6 tools) does none of that: writing to
//! a closed stdout fails with EBADF, and writing to a pipe without reader kills it with SIGPIPE
//! unless its parent ignored the signal. Our executables are `#![no_main]` and define the C
//! `main` with [`crate::startup::enter`] (through [`crate::entry!`]), so every program
//! starts in the state `execve` left, as s6's do, and a supervisor starts with fewer syscalls.
//!
//! Without the runtime's start-up, `std::env::args` is empty on musl (glibc hands argv to
//! constructors, musl does not): programs read their arguments with [`args_os`].

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

static ARGC: AtomicUsize = AtomicUsize::new(0);
static ARGV: AtomicPtr<*const c_char> = AtomicPtr::new(std::ptr::null_mut());

/// The C `main` of our executables: records `argv`, runs `program`, then exits 0 through
/// `std::process::exit` (which flushes Rust's stdout buffer; programs that fail exit on their
/// own with their code).
///
/// # Safety
/// `argc` and `argv` must be those the C runtime passed to `main`: `argv` points to `argc`
/// valid NUL-terminated strings, which stay valid and unchanged for the life of the process.
pub unsafe fn enter(argc: c_int, argv: *const *const c_char, program: fn()) -> c_int {
    ARGV.store(argv as *mut *const c_char, Ordering::Relaxed);
    ARGC.store(argc.max(0) as usize, Ordering::Relaxed);
    program();
    std::process::exit(0)
}

/// The process's arguments, `argv[0]` included: as [`enter`] recorded them, else (a program
/// run by another entry point, e.g. a test harness) `std::env::args_os()`.
pub fn args_os() -> std::vec::IntoIter<OsString> {
    let argv = ARGV.load(Ordering::Relaxed);
    if argv.is_null() {
        return std::env::args_os().collect::<Vec<_>>().into_iter();
    }
    let argc = ARGC.load(Ordering::Relaxed);
    (0..argc)
        .map(|i| {
            // SAFETY: `enter`'s contract: argc valid C strings that live as long as the process.
            let arg = unsafe { CStr::from_ptr(*argv.add(i)) };
            OsString::from_vec(arg.to_bytes().to_vec())
        })
        .collect::<Vec<_>>()
        .into_iter()
}

/// Defines the C `main` of an executable (which must be `#![no_main]`) that runs `program`
/// without the Rust runtime's start-up (see [`enter`]). The one `unsafe` every executable
/// needs lives here, so that the program crates can `forbid(unsafe_code)`.
#[macro_export]
macro_rules! entry {
    ($program:path) => {
        // Not in a test build: a test harness has its own `main`.
        #[cfg(not(test))]
        #[no_mangle]
        // Called by the C runtime alone, with its own argc and argv.
        #[allow(clippy::not_unsafe_ptr_arg_deref)]
        pub extern "C" fn main(
            argc: ::std::os::raw::c_int,
            argv: *const *const ::std::os::raw::c_char,
        ) -> ::std::os::raw::c_int {
            // SAFETY: the C runtime calls `main` with its own argc and argv.
            unsafe { $crate::startup::enter(argc, argv, $program) }
        }
    };
}

/// Places the functions it wraps in the `.text.hot.merit` section, which the linker's default
/// script puts together at the start of `.text` (`*(.text.hot .text.hot.*)`).
///
/// Why: every process of a tree maps the one static multi-call binary, and a supervisor or the
/// scanner touches only a few dozen of its functions after start-up. Gathered, those fill a
/// few pages of text that every process shares in the page cache, instead of one page here
/// and there across 600 KiB (bench/README.md, "scan_log", measures the Pss this saves). It
/// changes where code lies, never what it does; the attribute counts as `unsafe_code` for
/// rustc (a section name can clash with one the program relies on), so it is applied here,
/// where the crate that holds merit's `unsafe` vouches for this one name, and the program
/// crates can forbid `unsafe`.
///
/// Wraps free functions and methods alike: `merit_sys::hot! { pub fn main() { ... } }`.
#[macro_export]
macro_rules! hot {
    ($(#[$attr:meta])* $vis:vis fn $($rest:tt)*) => {
        $(#[$attr])*
        #[link_section = ".text.hot.merit"]
        $vis fn $($rest)*
    };
}

/// Drops from this process's page tables the executable text it has touched so far (the
/// start-up: option parsing, set-up, their library helpers), for a long-running process about
/// to enter its loop. Each page fault maps a 64 KiB window of the binary (the kernel's
/// fault-around); those the start-up touched alone stay mapped for the life of the process and
/// count in its Pss. After this call the loop faults back only the windows it runs (most of
/// them in `.text.hot`, shared with every supervisor). The pages stay in the page cache: this
/// costs a few minor faults, never a read.
///
/// Only our own executable's text mapping is touched: the `r-x` private mapping of
/// /proc/self/maps that contains this very function, which is never written to, so that
/// MADV_DONTNEED drops nothing but page-table entries. Best effort: nothing happens when the
/// mapping cannot be found.
pub fn drop_startup_text() {
    let here = drop_startup_text as fn() as usize;
    let maps = match crate::fs::read_small(c"/proc/self/maps", 256 * 1024) {
        Ok(crate::fs::Small::Data(b)) => b,
        _ => return,
    };
    for line in maps.split(|&b| b == b'\n') {
        let mut fields = line.split(|&b| b == b' ');
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else { continue };
        if perms != b"r-xp" {
            continue;
        }
        let mut ends = range
            .split(|&b| b == b'-')
            .map(|h| std::str::from_utf8(h).ok().and_then(|h| usize::from_str_radix(h, 16).ok()));
        let (Some(Some(start)), Some(Some(end))) = (ends.next(), ends.next()) else { continue };
        if start <= here && here < end {
            // SAFETY: [start, end) is a whole mapping of ours, private, read-only and
            // executable: MADV_DONTNEED only drops its page-table entries, which the next
            // access faults back from the page cache, unchanged.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
            return;
        }
    }
}
