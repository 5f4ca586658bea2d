//! The line filter shared by `s6-tai64n` and `s6-tai64nlocal`: read stdin, hand each complete
//! line (with its `\n`) to a callback, flush what it produced before the next read.

use merit_sys::fd;

/// Reads stdin to its end. `per_line(line, out)` gets every complete line with its `\n` and,
/// at end of file, an unterminated last line without one. `out` is written to stdout after
/// every read (so output is flushed whenever reading would block). I/O errors go to `die_io`.
pub fn filter_stdin(mut per_line: impl FnMut(&[u8], &mut Vec<u8>), die_io: fn(&std::io::Error) -> !) {
    let mut buf = vec![0u8; 65536];
    let mut partial: Vec<u8> = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(65536 + 64);
    loop {
        let n = match fd::read(0, &mut buf) {
            Ok(n) => n,
            Err(e) => die_io(&e),
        };
        if n == 0 {
            if !partial.is_empty() {
                per_line(&partial, &mut out);
            }
            if let Err(e) = fd::write_all(1, &out) {
                die_io(&e);
            }
            return;
        }
        let mut data = &buf[..n];
        while let Some(i) = data.iter().position(|&b| b == b'\n') {
            if partial.is_empty() {
                per_line(&data[..=i], &mut out);
            } else {
                partial.extend_from_slice(&data[..=i]);
                per_line(&partial, &mut out);
                partial.clear();
            }
            data = &data[i + 1..];
        }
        partial.extend_from_slice(data);
        if let Err(e) = fd::write_all(1, &out) {
            die_io(&e);
        }
        out.clear();
    }
}
