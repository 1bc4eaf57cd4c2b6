//! The "rust" guest: a Spin Redis handler in Rust with no crates, the canonical ABI
//! written by hand. Built with Debian's rustc 1.63 + libstd-rust-dev-wasm32
//! (target wasm32-wasi) as a cdylib, linked as a WASI preview1 reactor: wasi-libc's
//! crt1-reactor.o provides `_initialize`, which runs the constructors at instantiation
//! (see build_rust in scripts/build-guests.sh). Protocol: ../README.md.
use std::alloc::{alloc, dealloc, realloc, Layout};
use std::io::Write;

const NAME: &str = "rust";

#[no_mangle]
pub unsafe extern "C" fn cabi_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8 {
    if new_size == 0 {
        return align as *mut u8;
    }
    let p = if old.is_null() || old_size == 0 {
        alloc(Layout::from_size_align_unchecked(new_size, align))
    } else {
        realloc(old, Layout::from_size_align_unchecked(old_size, align), new_size)
    };
    if p.is_null() {
        std::process::abort();
    }
    p
}

/// What the handler returns.
enum Outcome {
    Ok,
    ErrError,
    ErrSuccess,
}

static mut RET_AREA: [u8; 2] = [0; 2];

#[export_name = "fermyon:spin/inbound-redis#handle-message"]
pub unsafe extern "C" fn handle_message(ptr: *mut u8, len: usize) -> *mut u8 {
    let msg = std::slice::from_raw_parts(ptr, len).to_vec();
    if len != 0 {
        // The host allocated the payload with cabi_realloc(0, 0, 1, len): it is ours now.
        dealloc(ptr, Layout::from_size_align_unchecked(len, 1));
    }
    RET_AREA = match handle(&msg) {
        Outcome::Ok => [0, 0],
        Outcome::ErrError => [1, 1],
        Outcome::ErrSuccess => [1, 0],
    };
    RET_AREA.as_mut_ptr()
}

fn out(line: &str) {
    let mut o = std::io::stdout();
    let _ = writeln!(o, "{}", line);
    let _ = o.flush();
}

fn err(line: &str) {
    let mut e = std::io::stderr();
    let _ = writeln!(e, "{}", line);
    let _ = e.flush();
}

fn handle(msg: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(msg);
    let (cmd, arg) = match text.find(':') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (&text[..], ""),
    };
    match cmd {
        "print" => out(arg),
        "stderr" => err(arg),
        "fail" => return Outcome::ErrError,
        "errsuccess" => return Outcome::ErrSuccess,
        "trap" => panic!("trap requested"),
        "loop" => loop {
            std::hint::spin_loop();
        },
        "alloc" => return alloc_mib(arg),
        "env" => match std::env::var(arg) {
            Ok(v) => out(&v),
            Err(_) => err(&format!("unset:{}", arg)),
        },
        "file" => match std::fs::read(arg) {
            Ok(data) => {
                let mut o = std::io::stdout();
                let _ = o.write_all(&data);
                if data.last() != Some(&b'\n') {
                    let _ = o.write_all(b"\n");
                }
                let _ = o.flush();
            }
            Err(e) => {
                err(&format!("file:{}: {}", arg, e));
                return Outcome::ErrError;
            }
        },
        "len" => out(&format!("len={}", msg.len())),
        _ => out(&format!("{} got {} bytes", NAME, msg.len())),
    }
    Outcome::Ok
}

fn alloc_mib(arg: &str) -> Outcome {
    let mib: usize = match arg.parse() {
        Ok(n) if n > 0 => n,
        _ => {
            err(&format!("alloc:{}: want a positive number of MiB", arg));
            return Outcome::ErrError;
        }
    };
    let mut v: Vec<u8> = Vec::new();
    let n = match mib.checked_mul(1 << 20) {
        Some(n) => n,
        None => usize::MAX, // more than the 32-bit address space: try_reserve fails
    };
    if v.try_reserve_exact(n).is_err() {
        err(&format!("alloc:{}: out of memory", mib));
        return Outcome::ErrError;
    }
    v.resize(n, 1); // touches every page
    drop(v);
    out(&format!("alloc:{} ok", mib));
    Outcome::Ok
}
