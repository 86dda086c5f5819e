//! The `mockcrm` binary: all behaviour lives in the library.

fn main() -> std::process::ExitCode {
    mockcrm::run_cli()
}
