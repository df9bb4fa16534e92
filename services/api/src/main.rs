fn main() -> std::process::ExitCode {
    service::binary::main::<api::Api>()
}
