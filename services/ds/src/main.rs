fn main() -> std::process::ExitCode {
    service::binary::main::<ds::Ds>()
}
