//! Developer tasks for alter-rs.

fn main() {
    eprintln!("usage: cargo xtask <ci|conformance>");
    std::process::exit(2);
}
