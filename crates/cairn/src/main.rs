//! `cairn`: see `cairn --help`.

/// mimalloc instead of glibc's malloc: batches are built on the receiver
/// threads and freed on the writer and reader threads, and glibc's
/// allocator (cross-thread frees, arena consolidation) was about a fifth of
/// the full pipeline's CPU in profiles (BENCHMARKS.md, "peerbench").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cairn::cli::main()
}
