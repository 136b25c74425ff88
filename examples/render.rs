//! Renders the Mandelbrot set into a PGM image, writing each row to the
//! file as soon as it is computed: output written as the run goes is part
//! of its progress, and an interrupted run must leave the same file as an
//! uninterrupted one, not a row twice or a row missing.
//!
//! The rows on disk are the state's business: the file's length is a
//! `#[state]` local. A rerun resumes from the last save, which may be some
//! rows behind what the killed run wrote, so each iteration opens the file
//! cut back to the length saved with the state, then appends its row.
//! (Without the cut, the rows written after the last save would be written
//! again: effects outside the state happen at least once, never "exactly
//! once", whatever the save policy.)
//!
//! ```text
//! cargo run --release --example render -- 400 --delay-ms 5   # writes render.pgm; Ctrl-C, run again
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// The gray level of the point `(cx, cy)`: how soon it escapes.
fn escape(cx: f64, cy: f64, limit: u32) -> u8 {
    let (mut x, mut y, mut steps) = (0.0_f64, 0.0_f64, 0);
    while x * x + y * y <= 4.0 && steps < limit {
        let next = x * x - y * y + cx;
        y = 2.0 * x * y + cy;
        x = next;
        steps += 1;
    }
    (steps * 255 / limit) as u8
}

/// Starts the image: its header, in a new file. Returns its length.
fn start_image(path: &Path, width: u64, height: u64) -> io::Result<u64> {
    let header = format!("P5\n{width} {height}\n255\n");
    File::create(path)?.write_all(header.as_bytes())?;
    Ok(header.len() as u64)
}

/// Opens the image for appending, cut back to `written` bytes, what the
/// state says is on disk: an interrupted run may have written rows after
/// its last save (the cut changes nothing but on the first row after a
/// resume). A file shorter than that lost rows the checkpoint counts (a
/// power loss before the disk had them): an error, since going on would
/// leave a hole.
fn append_at(path: &Path, written: u64) -> io::Result<File> {
    let file = OpenOptions::new().append(true).open(path)?;
    let len = file.metadata()?.len();
    if len < written {
        return Err(io::Error::other(format!(
            "{} has {len} bytes, but the checkpoint counts {written}: rows it saved were lost; rerun with CHECKPOINT_FRESH=1",
            path.display()
        )));
    }
    file.set_len(written)?;
    Ok(file)
}

/// Renders a `size` x `size` image into `path`, a row at a time; returns
/// the number of bytes written.
#[checkpointed(every_iters = 1, key = (path, size))]
fn render(path: &Path, size: u64, delay_ms: u64) -> io::Result<u64> {
    #[state]
    let mut written = start_image(path, size, size)?;
    for row in 0..size {
        let cy = -1.25 + 2.5 * row as f64 / size as f64;
        let pixels: Vec<u8> = (0..size)
            .map(|column| escape(-2.0 + 2.5 * column as f64 / size as f64, cy, 500))
            .collect();
        append_at(path, written)?.write_all(&pixels)?;
        written += pixels.len() as u64;
        pause(delay_ms);
    }
    Ok(written)
}

fn main() {
    let cli = Cli::parse("render SIZE [--delay-ms MS] (writes render.pgm)", 400);
    let path = Path::new("render.pgm");
    match render(path, cli.n, cli.delay_ms) {
        Ok(written) => println!("wrote {written} bytes to {}", path.display()),
        Err(err) => {
            eprintln!("render: {err}");
            std::process::exit(1);
        }
    }
}
