//! The `mockcrm` binary: all behaviour lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    mockcrm::cli::main()
}
