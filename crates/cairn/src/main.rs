//! `cairn`: see `cairn --help`.

/// mimalloc (its v2 line, purging freed memory after 10 ms, transparent huge
/// pages off): the receive path allocates and frees many small strings per
/// record, where glibc's malloc spent about a third of decode time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cairn::cli::main()
}
