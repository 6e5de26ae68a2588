use std::process::ExitCode;

fn main() -> ExitCode {
    cutover::cli::main()
}
