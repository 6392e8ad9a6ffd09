//! The `wasmaot` command line: compile, build, run, inspect and wast.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
