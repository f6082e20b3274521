//! The AWS Lambda `bootstrap` (provided.al2023): `_HANDLER` picks `presign` or a stage.

fn main() -> std::process::ExitCode {
    haul_stages::lambda::main()
}
