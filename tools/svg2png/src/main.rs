//! `svg2png IN.svg OUT.png`: renders an SVG to PNG with the system's fonts (resvg).
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, output] = &args[..] else {
        eprintln!("usage: svg2png IN.svg OUT.png");
        return ExitCode::from(2);
    };
    let svg = match std::fs::read_to_string(input) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("svg2png: cannot read {input}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut options = resvg::usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    if options.fontdb.is_empty() {
        eprintln!("svg2png: no system fonts found: the PNG would have no text");
        return ExitCode::FAILURE;
    }
    let tree = match resvg::usvg::Tree::from_str(&svg, &options) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("svg2png: {input} is not a valid SVG: {e}");
            return ExitCode::FAILURE;
        }
    };
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).expect("size");
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    // RGB on white, best compression: a third smaller than tiny-skia's RGBA file.
    let rgb: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| {
            let c = p.demultiply();
            let a = u32::from(c.alpha());
            let on_white = |v: u8| ((u32::from(v) * a + 255 * (255 - a)) / 255) as u8;
            [on_white(c.red()), on_white(c.green()), on_white(c.blue())]
        })
        .collect();
    let write = || -> Result<(), Box<dyn std::error::Error>> {
        let file = std::io::BufWriter::new(std::fs::File::create(output)?);
        let mut enc = png::Encoder::new(file, size.width(), size.height());
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        enc.set_filter(png::FilterType::Paeth);
        enc.write_header()?.write_image_data(&rgb)?;
        Ok(())
    };
    if let Err(e) = write() {
        eprintln!("svg2png: cannot write {output}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
