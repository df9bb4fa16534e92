fn main() -> std::process::ExitCode {
    service::binary::main::<mailer::Mailer>()
}
