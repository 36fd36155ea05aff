fn main() -> std::process::ExitCode {
    ecsgate::run()
}
